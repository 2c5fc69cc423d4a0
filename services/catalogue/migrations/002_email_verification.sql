-- Whether registrations verify their email (EmailVerification: 0 from frontends, 2 off).
ALTER TABLE events ADD COLUMN email_verification smallint NOT NULL DEFAULT 0;
