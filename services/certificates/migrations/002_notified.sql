-- When the participant's mail with the PDF was handed to the notifications service.
ALTER TABLE certificates ADD COLUMN notified_time timestamptz;
CREATE INDEX certificates_to_notify ON certificates (issue_time) WHERE notified_time IS NULL;
