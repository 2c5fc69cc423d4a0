-- The name as the participant wants it on the certificate ("李小龙", "NAGY Éva"); '' means
-- given name then family name.
ALTER TABLE registrations ADD COLUMN certificate_name text NOT NULL DEFAULT '';
