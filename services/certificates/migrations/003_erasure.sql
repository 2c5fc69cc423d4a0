-- After the participant's personal data are erased, a certificate keeps what verification needs
-- (the SHA-256 of the signed payload, the signature, the facts without the name) and nothing
-- that names the person (the name in the payload and the PDF go).
ALTER TABLE certificates ADD COLUMN payload_sha256 text NOT NULL DEFAULT '';
ALTER TABLE certificates ADD COLUMN erased boolean NOT NULL DEFAULT false;
UPDATE certificates SET payload_sha256 = encode(sha256(convert_to(payload, 'UTF8')), 'hex');

-- Where the registration service's erasure feed was last read.
CREATE TABLE erasure_feed (
  id integer PRIMARY KEY CHECK (id = 1),
  resume_token text NOT NULL DEFAULT ''
);
INSERT INTO erasure_feed (id) VALUES (1);
