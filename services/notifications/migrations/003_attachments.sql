-- A file sent with a message (the certificate's PDF), besides the iCalendar invitation.
ALTER TABLE messages ADD COLUMN attachment bytea;
ALTER TABLE messages ADD COLUMN attachment_name text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN attachment_type text NOT NULL DEFAULT '';
