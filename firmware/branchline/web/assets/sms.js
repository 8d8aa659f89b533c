// How many SMS parts a reply takes, and how many characters are left in the last one:
// the computation of branchline.proto.pdu (split / part_count), with the alphabet and
// capacities the appliance gives in /api/me ("sms"), so page and codec never disagree.
"use strict";
const Sms = {
  count(text, rules) {
    const chars = Array.from(text);  // code points: an emoji is one, of two UTF-16 units
    let gsm = true;
    for (const ch of chars) {
      if (!rules.gsm7_one.includes(ch) && !rules.gsm7_two.includes(ch)) { gsm = false; break; }
    }
    const cost = gsm ? (ch) => (rules.gsm7_one.includes(ch) ? 1 : 2) : (ch) => ch.length;
    const single = gsm ? rules.gsm7_single : rules.ucs2_single;
    const part = gsm ? rules.gsm7_part : rules.ucs2_part;
    let total = 0;
    for (const ch of chars) total += cost(ch);
    const encoding = gsm ? "GSM 7-bit" : "UCS-2";
    if (total <= single) return { parts: 1, left: single - total, encoding, units: total };
    let parts = 1;
    let used = 0;
    for (const ch of chars) {
      const c = cost(ch);
      if (used + c > part) { parts += 1; used = 0; }
      used += c;
    }
    return { parts, left: part - used, encoding, units: total };
  },
};
