-- Issued certificates: the signed payload (what verification needs), the PDF, revocations.
CREATE TABLE certificates (
  id uuid PRIMARY KEY,
  registration_id uuid NOT NULL UNIQUE,  -- one certificate per registration
  event_id uuid NOT NULL,
  serial text NOT NULL UNIQUE,
  verification_code text NOT NULL UNIQUE,
  payload text NOT NULL,
  signature text NOT NULL,
  key_id text NOT NULL,
  document_language text NOT NULL,
  pdf bytea NOT NULL,
  pdf_sha256 text NOT NULL,
  issue_time timestamptz NOT NULL DEFAULT now(),
  revoke_time timestamptz,
  revoke_reason text NOT NULL DEFAULT ''
);
CREATE INDEX certificates_by_event ON certificates (event_id, issue_time, id);
