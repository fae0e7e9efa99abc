#!/usr/bin/env python3
"""Reads kubecis JUnit reports with junitparser (a JUnit consumer from PyPI)
and checks them against the JSON report of the same run: one test suite per
target named by its text, with kube-bench's counts; one test case per check
named "<id> <text>" with its group as the class; a failure holding the
remediation for FAIL, skipped for WARN and INFO, nothing for PASS; the
check's JSON as system-out.

    junit_consumer.py REPORT.xml REPORT.json [REPORT.xml REPORT.json ...]

Exits 1 listing every mismatch. Run by .ci/junit.
"""

import json
import sys

from junitparser import Failure, JUnitXml, Skipped, TestSuite


def controls_of(report):
    # --nototals gives the bare list of controls.
    return report if isinstance(report, list) else report["Controls"]


def check_pair(xml_path, json_path, problems):
    xml = JUnitXml.fromfile(xml_path)
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    controls = controls_of(json.load(open(json_path)))
    where = xml_path
    if len(suites) != len(controls):
        problems.append(f"{where}: {len(suites)} suites for {len(controls)} targets")
        return
    if len(controls) > 1 and isinstance(xml, TestSuite):
        problems.append(f"{where}: several targets must be wrapped in <testsuites>")
    cases = 0
    for suite, control in zip(suites, controls):
        results = [r for g in (control["tests"] or []) for r in g["results"]]
        groups = [g["desc"] for g in (control["tests"] or []) for _ in g["results"]]
        if suite.name != control["text"]:
            problems.append(f"{where}: suite {suite.name!r} is not {control['text']!r}")
        total = sum(control[k] for k in ("total_pass", "total_fail", "total_warn", "total_info"))
        if suite.tests != total or suite.failures != control["total_fail"] or suite.errors != 0:
            problems.append(
                f"{where}: {suite.name}: tests/failures/errors {suite.tests}/{suite.failures}/"
                f"{suite.errors}, expected {total}/{control['total_fail']}/0"
            )
        tcs = list(suite)
        if len(tcs) != len(results):
            problems.append(f"{where}: {suite.name}: {len(tcs)} cases for {len(results)} checks")
            continue
        for case, r, group in zip(tcs, results, groups):
            cases += 1
            name = f"{r['test_number']} {r['test_desc']}"
            if case.name != name or case.classname != group:
                problems.append(f"{where}: case {case.name!r} ({case.classname!r}) is not {name!r} ({group!r})")
            kinds = [type(x) for x in case.result]
            want = {"FAIL": [Failure], "WARN": [Skipped], "INFO": [Skipped], "PASS": []}[r["status"]]
            if kinds != want:
                problems.append(f"{where}: {name}: results {kinds} for {r['status']}")
                continue
            if r["status"] == "FAIL" and case.result[0].text != r["remediation"]:
                problems.append(f"{where}: {name}: the failure does not hold the remediation")
            if json.loads(case.system_out) != r:
                problems.append(f"{where}: {name}: system-out is not the check's JSON")
    print(f"junit: {xml_path}: {len(suites)} suite(s), {cases} case(s) read by junitparser, all match {json_path}")


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = []
    for i in range(0, len(args), 2):
        check_pair(args[i], args[i + 1], problems)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
