-- Certificates since version 2 of the payload hold the name only as a salted commitment. The
-- service keeps the printed name and the salt for the holder until their data are erased; then
-- both go (with the PDF) and the signed payload stays as it was, still verifying.
ALTER TABLE certificates ADD COLUMN holder_name text NOT NULL DEFAULT '';
ALTER TABLE certificates ADD COLUMN name_salt text NOT NULL DEFAULT '';
