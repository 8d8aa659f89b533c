"""Who may do what in the console: the one home of the roles' rules, checked on the
server for every request (the pages only hide what a role cannot use).

- an agent works at one desk: the conversations offered to or held by that desk (and
  their customers), the desk's presence and hand-over notes, the branch's notes;
- a supervisor sees and does everything, and alone assigns from the queue, forces an
  assignment past a cap, edits and erases customers, and reads the audit log;
- a technician sees the wallboard's figures and the appliance's state, and no
  customer's words or number.
"""

AGENT = "agent"
SUPERVISOR = "supervisor"
TECHNICIAN = "technician"

# What each role may do with a conversation it may see (an agent: its desk's own).
CONVERSATION_ACTIONS = {
    AGENT: ("read", "accept", "reply", "note", "wrapup", "close", "callback_outcome",
            "transfer", "escalate", "templates"),
    SUPERVISOR: ("read", "accept", "reply", "note", "wrapup", "close", "callback_outcome",
                 "transfer", "escalate", "templates", "assign"),
    TECHNICIAN: (),
}


ARTICLE = {AGENT: "an agent", SUPERVISOR: "a supervisor", TECHNICIAN: "a technician"}


class Forbidden(Exception):
    """The account may not do this (the console's 403, with the reason)."""


def conversation(account, conv, action):
    """Raise Forbidden unless `account` may `action` the open conversation `conv`."""
    if action not in CONVERSATION_ACTIONS[account.role]:
        raise Forbidden("%s cannot %s conversations" % (ARTICLE[account.role], action))
    if account.role == AGENT and conv.desk != account.desk:
        raise Forbidden("conversation %d is not at your desk" % conv.id)


def desk(account, number):
    """Raise Forbidden unless `account` may change desk `number`'s presence."""
    if account.role == SUPERVISOR or (account.role == AGENT and account.desk == number):
        return
    raise Forbidden("desk %d is not yours" % number)


def customer(account, open_conv):
    """Raise Forbidden unless `account` may read (or annotate) a customer whose open
    conversation is `open_conv` (None: none open)."""
    if account.role == SUPERVISOR:
        return
    if account.role == AGENT and open_conv is not None and open_conv.desk == account.desk:
        return
    raise Forbidden("only a supervisor looks up customers outside your conversations")


def supervisor(account, what):
    if account.role != SUPERVISOR:
        raise Forbidden("only a supervisor can %s" % what)


def customer_data(account):
    """Raise Forbidden for a role that never sees customers' numbers or words."""
    if account.role == TECHNICIAN:
        raise Forbidden("a technician sees no customer data")
