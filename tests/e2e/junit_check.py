"""Reads a `kiln report --format junit` file with junitparser, as a CI
system would, and checks what a CI user relies on. Exit 0 when it holds.

usage: junit_check.py REPORT.xml SUITES FAILING_SERIAL FAILURE_TYPE MESSAGE_PART
"""
import sys

from junitparser import Failure, JUnitXml, Skipped


def main(path, suites, serial, failure_type, message_part):
    xml = JUnitXml.fromfile(path)
    found = list(xml)
    assert len(found) == int(suites), f"{len(found)} testsuites, expected {suites}"
    failing = [s for s in found if s.failures > 0]
    assert [s.name for s in failing] == [serial], f"failing suites {[s.name for s in failing]}"
    suite = failing[0]
    props = {p.name: p.value for p in suite.properties()}
    assert props.get("verdict") == "fail", props
    failures = [r for case in suite for r in case.result if isinstance(r, Failure)]
    assert failures, "no failure element"
    for f in failures:
        assert f.type == failure_type, f.type
        assert message_part in f.message, f.message
        assert "conditions at first occurrence" in (f.text or ""), f.text
    for s in found:
        assert s.tests == len(list(s)), f"{s.name}: tests={s.tests} but {len(list(s))} testcases"
        skipped = sum(1 for case in s for r in case.result if isinstance(r, Skipped))
        assert s.skipped == skipped, f"{s.name}: skipped={s.skipped} but {skipped} skipped testcases"
    print(f"junit ok: {len(found)} suites, {sum(s.tests for s in found)} testcases, {len(failures)} failures on {serial}")


if __name__ == "__main__":
    main(*sys.argv[1:])
