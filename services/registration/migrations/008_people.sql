-- People a registration's history names besides its holder: colleagues it was offered to in a
-- hand-over, and former holders. Erasing one of them finds the registration here and scrubs
-- what its outbox and stored answers hold about them; the row goes with the erasure.
CREATE TABLE registration_people (
  registration_id uuid NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
  email text NOT NULL,
  PRIMARY KEY (registration_id, email)
);
CREATE INDEX registration_people_by_email ON registration_people (email);
