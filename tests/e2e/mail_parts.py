#!/usr/bin/python3
"""What a mail holds, read with Python's standard parser (email, policy.default): the decoded
subject and headers (From and To: display name and address), the text part, the iCalendar part and its Content-Type, every other file
(its decoded name, content type, size and SHA-256) and the defects the parser noticed.
Used by smtp_sink.py for each mail it accepts, and on its own by tests:
usage: mail_parts.py FILE.eml...  (prints one JSON object per file, one per line)"""
import email
import email.header
import email.policy
import hashlib
import json
import re
import sys


def mailbox(value):
    """The display name and address of a one-mailbox header, decoded as RFC 2047 section 6.2
    says: white space between adjacent encoded words is dropped. (The headerregistry parser of
    Python 3.11 keeps it inside a display name, so that not even its own output reads back.)"""
    value = re.sub(r"\r?\n([ \t])", r"\1", value).strip()
    match = re.fullmatch(r"(.*?)\s*<([^<>]*)>", value, re.S)
    if not match:
        return "", value
    phrase, address = match.group(1).strip(), match.group(2)
    if len(phrase) >= 2 and phrase[0] == '"' and phrase[-1] == '"':
        return re.sub(r"\\(.)", r"\1", phrase[1:-1]), address
    return str(email.header.make_header(email.header.decode_header(phrase))), address


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
    people = {}
    raw_headers = {k.lower(): v for k, v in msg.raw_items()}
    for header in ("From", "To"):
        value = msg[header]
        addresses = list(getattr(value, "addresses", ()) or ())
        defects += [type(d).__name__ for d in getattr(value, "defects", ())]
        name, address = mailbox(raw_headers.get(header.lower(), ""))
        people[header.lower() + "_name"] = name
        people[header.lower() + "_address"] = address
        people[header.lower() + "_count"] = len(addresses)
    head = raw.split(b"\r\n\r\n", 1)[0]
    return {
        "subject": str(msg["Subject"]),
        "message_id": str(msg["Message-ID"]),
        "to": str(msg["To"]),
        # The decoded display names and addresses, and how many each header names.
        **people,
        # Headers on the wire are ASCII (RFC 5322): anything else travels as encoded words.
        "headers_ascii": all(b < 0x80 for b in head),
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
