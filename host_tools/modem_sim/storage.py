"""A message memory ("SM" on the SIM, "ME" in the modem, "SR" for status reports): numbered
slots 1..capacity, each holding [stat, hex PDU] as AT+CMGL/AT+CMGR show them."""

REC_UNREAD, REC_READ, STO_UNSENT, STO_SENT, ALL = 0, 1, 2, 3, 4

# AT+CMGD=<index>,<delflag>: which stats each flag sweeps away (27.005 3.5.4).
_DELFLAG_STATS = {
    1: (REC_READ,),
    2: (REC_READ, STO_SENT),
    3: (REC_READ, STO_SENT, STO_UNSENT),
    4: (REC_UNREAD, REC_READ, STO_UNSENT, STO_SENT),
}


def tpdu_length(hex_pdu):
    """Octets after the SMSC prefix: the <length> of +CMGR/+CMGL/+CMT/+CDS."""
    return len(hex_pdu) // 2 - (int(hex_pdu[:2], 16) + 1)


class Memory:
    def __init__(self, name, capacity):
        self.name = name
        self.capacity = capacity
        self.slots = {}  # index -> [stat, hex pdu]

    @property
    def used(self):
        return len(self.slots)

    @property
    def full(self):
        return len(self.slots) >= self.capacity

    def valid(self, index):
        return 1 <= index <= self.capacity

    def store(self, stat, hex_pdu):
        """-> the lowest free index, or None when full."""
        for index in range(1, self.capacity + 1):
            if index not in self.slots:
                self.slots[index] = [stat, hex_pdu]
                return index
        return None

    def read(self, index):
        """-> (stat as it was, pdu) or None; reading an unread message marks it read."""
        entry = self.slots.get(index)
        if entry is None:
            return None
        stat = entry[0]
        if stat == REC_UNREAD:
            entry[0] = REC_READ
        return stat, entry[1]

    def listing(self, stat):
        """-> [(index, stat, pdu)] for AT+CMGL=<stat>, marking unread ones read."""
        out = []
        for index in sorted(self.slots):
            if stat == ALL or self.slots[index][0] == stat:
                out.append((index,) + self.read(index))
        return out

    def delete(self, index, delflag):
        """-> the indexes freed (AT+CMGD on an empty slot is OK and frees nothing)."""
        if delflag == 0:
            gone = [index] if index in self.slots else []
        else:
            stats = _DELFLAG_STATS[delflag]
            gone = [i for i in sorted(self.slots) if self.slots[i][0] in stats]
        for i in gone:
            del self.slots[i]
        return gone
