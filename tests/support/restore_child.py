"""A snapshot and its restores, emulated with fork (run as a script by test_snapshot.py).

`python restore_child.py URL` (with AWS_ENDPOINT_URL=URL): builds a requests session
(transport.new_session) and a DynamoDB client (wiring._aws), each makes one request to
URL (a keep-alive test server: each leaves a pooled connection), then the process
forks, as many execution environments restored from one snapshot start from the same
memory. A fork
reseeds `random` by itself (os.register_at_fork), which a SnapStart restore does not:
each child first puts back the parent's random state, so that it starts exactly as a
restored copy would. Children named "restored" then run the after-restore hooks;
"unrenewed" ones do not (the control: it shows what the test would catch). Each child
draws random numbers and ids and makes the same two requests again, tagged with its
name. Prints one JSON line: what each child drew.
"""

import json
import os
import random
import sys

CHILDREN = ("restored-1", "restored-2", "unrenewed-1", "unrenewed-2")


def main(url: str) -> None:
    from barcode_service import snapshot
    from barcode_service.transport import new_session
    from barcode_service.uploads.policy import new_upload_id
    from barcode_service.wiring import _aws

    session = new_session()
    dynamodb = _aws("dynamodb")  # AWS_ENDPOINT_URL: the test server

    def call(tag: str) -> None:
        session.get(f"{url}/{tag}", timeout=5).raise_for_status()
        dynamodb.get_item(TableName=tag, Key={"pk": {"S": "x"}})

    call("before-snapshot")
    state = random.getstate()
    drawn = {}
    for name in CHILDREN:
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(reader)
            random.setstate(state)  # undo fork's own reseed: a restore has none
            if name.startswith("restored"):
                snapshot.run_after_restore()
            numbers = [random.random() for _ in range(3)]
            call(name)
            with os.fdopen(writer, "w") as out:
                json.dump({"random": numbers, "upload_id": new_upload_id()}, out)
            os._exit(0)
        os.close(writer)
        with os.fdopen(reader) as answer:
            drawn[name] = json.load(answer)
        os.waitpid(pid, 0)
    print(json.dumps(drawn), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
