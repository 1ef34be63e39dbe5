#!/usr/bin/env python3
"""Posts every body of a file (one JSON body per line) once to a URL, on a few keep-alive
connections, and fails on any answer but 200.

    post_bodies.py URL TOKEN BODIES.jsonl [CONNECTIONS]
"""
import http.client
import sys
import threading
import urllib.parse

url, token, path = sys.argv[1], sys.argv[2], sys.argv[3]
conns = int(sys.argv[4]) if len(sys.argv) > 4 else 4
u = urllib.parse.urlparse(url)
bodies = open(path, "rb").read().splitlines()
failed = []


def work(part):
    c = http.client.HTTPConnection(u.hostname, u.port)
    for b in part:
        c.request("POST", u.path, body=b, headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            failed.append(r.status)


threads = [threading.Thread(target=work, args=(bodies[i::conns],)) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if failed:
    sys.exit(f"{len(failed)} bodies refused: {failed[:5]}")
