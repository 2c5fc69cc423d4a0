#!/usr/bin/python3
"""A real SMTP server for the tests (Debian's python3-aiosmtpd): stores every message it accepts
as <dir>/<uuid>.json with the envelope and what Python's standard parser finds in it
(mail_parts.py: the decoded subject, text part, iCalendar part, files with their SHA-256), and the
raw message beside it. Recipients starting with "reject" are refused for good (550).
usage: smtp_sink.py PORT DIR"""
import asyncio
import json
import os
import sys
import uuid

import mail_parts

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        record = mail_parts.describe(raw)
        record["mail_from"] = envelope.mail_from
        record["rcpt_tos"] = envelope.rcpt_tos
        name = os.path.join(self.directory, uuid.uuid4().hex)
        with open(name + ".eml", "wb") as f:
            f.write(raw)
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(name + ".tmp", name + ".json")
        return "250 Message accepted"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("listening", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
