-- A sender's claim (claimed_until, claimed_by: no index reads them) updates a message in place
-- (HOT) when its page has room for the new version: no index entry, no second page. A message is
-- about 2 kB (the invitation is most of it), so 70% full leaves room for one such version per
-- page. Sending it changes its state, which the due index reads, so that update is not HOT.
-- Measured in scripts/bench-mail: 831 of 1688 updates HOT, none before.
ALTER TABLE messages SET (fillfactor = 70);
