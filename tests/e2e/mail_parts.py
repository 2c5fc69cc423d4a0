#!/usr/bin/python3
"""What a mail holds, read with Python's standard parser (email, policy.default): the decoded
subject and headers, the text part, the iCalendar part and its Content-Type, every other file
(its decoded name, content type, size and SHA-256) and the defects the parser noticed.
Used by smtp_sink.py for each mail it accepts, and on its own by tests:
usage: mail_parts.py FILE.eml...  (prints one JSON object per file, one per line)"""
import email
import email.policy
import hashlib
import json
import sys


def describe(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text, ics, ics_type, ics_filename = "", "", "", ""
    attachments, defects = [], [type(d).__name__ for d in msg.defects]
    text_parts = 0
    for part in msg.walk():
        defects += [type(d).__name__ for d in part.defects]
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = part.get_filename()
        if ctype == "text/calendar":
            ics = part.get_payload(decode=True).decode("utf-8")
            ics_type = part.get("Content-Type", "")
            ics_filename = filename or ""
        elif ctype == "text/plain" and not filename and part.get_content_disposition() != "attachment":
            text_parts += 1
            if not text:
                # Line ends as a reader sees them (the wire has CRLF by definition).
                text = part.get_content().replace("\r\n", "\n")
        else:
            data = part.get_payload(decode=True) or b""
            attachments.append({"filename": filename or "", "content_type": ctype,
                                "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return {
        "subject": str(msg["Subject"]),
        "message_id": str(msg["Message-ID"]),
        "to": str(msg["To"]),
        "content_type": msg.get_content_type(),
        "text": text,
        "text_parts": text_parts,
        "ics": ics,
        "ics_type": ics_type,
        "ics_filename": ics_filename,
        "attachments": attachments,
        "defects": defects,
    }


def main():
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            print(json.dumps(describe(f.read()), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
