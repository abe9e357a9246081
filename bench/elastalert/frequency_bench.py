"""ElastAlert2's FrequencyRule on the same audit events as audit-spike's detection core (run by `npm run bench`).

ElastAlert2 has no Datadog source: in production it queries Elasticsearch with each rule's `filter`, converts each
hit's timestamp to a datetime (`process_hits` / `ts_to_dt`), and hands the hits of a run to the rule with
`rule.add_data(hits)`, then calls `rule.garbage_collect(end_of_run)`. This driver keeps the rule-type part of that and
replaces Elasticsearch by an in-process filter, so both sides do the same work:

- Not timed (transport, as on the audit-spike side where the Datadog client deserialises pages): reading the JSONL,
  `json.loads`, turning `timestamp` into a timezone-aware datetime, and one shallow copy of each document per
  repetition (ElastAlert's `add_match` rewrites the timestamp field of a matching event in place).
- Timed: for every event, the rules' filters (the same terms as audit-spike's default catalog: the value at each
  path under `attributes`, lower-cased, in the allowed set; read-only actions never count), the actor (`usr.email`
  lower-cased, else `usr.id`, else `api_key:<metadata.api_key.id>`, else `unknown`) stored as the `actor` field,
  then per page of 1,000 events `FrequencyRule.add_data(matching events)` on each rule (`num_events` = the rule's
  lowest tier, `timeframe` = its window, `query_key: actor`, `timestamp_field: timestamp`), and at every 5-minute run
  boundary `garbage_collect(boundary)`. One FrequencyRule instance per catalog rule; `matches` are counted and
  cleared after each page, as ElastAlert does after alerting.
- Python's cyclic garbage collector: the loaded documents are frozen out of it (`gc.freeze()`) before each timed pass.
  ElastAlert2 never holds a million documents (only one run's hits), and without the freeze every collection would
  walk them all, which slowed the rules by half in a trial run; the freeze keeps that cost out of ElastAlert2's figure.
- Not done (in ElastAlert's run loop, not its rule class): de-duplication by `_id` against earlier runs, which
  audit-spike's core does. Leaving it out favours ElastAlert2.

Usage: python frequency_bench.py EVENTS.jsonl RULES.json REPETITIONS [--max-seconds S]
Prints one JSON object on stdout.
"""

import copy  # noqa: F401  (ElastAlert's add_match uses it; imported here to keep import time out of the timing)
import datetime
import gc
import json
import re
import sys
import time
from importlib.metadata import version

from elastalert.ruletypes import FrequencyRule

PAGE = 1000


def load(path, limit=None):
    docs = []
    with open(path, "r", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            event = json.loads(line)
            doc = event["attributes"]
            doc["timestamp"] = datetime.datetime.fromisoformat(doc["timestamp"].replace("Z", "+00:00"))
            doc["_id"] = event["id"]
            docs.append(doc)
            if limit is not None and len(docs) >= limit:
                break
    return docs


def compile_value(value):
    value = value.lower()
    if "*" in value:
        return None, re.compile("^" + ".*".join(re.escape(part) for part in value.split("*")) + "$")
    return value, None


def compile_rules(spec):
    rules = []
    for rule in spec["rules"]:
        clauses = []
        for clause in rule["anyOf"]:
            conditions = []
            for condition in clause["all"]:
                exact, patterns = set(), []
                for value in condition["values"]:
                    text, pattern = compile_value(value)
                    if pattern is None:
                        exact.add(text)
                    else:
                        patterns.append(pattern)
                conditions.append((tuple(condition["path"].split(".")), frozenset(exact), tuple(patterns)))
            clauses.append(tuple(conditions))
        rules.append((rule["id"], tuple(clauses), rule["tiers"][0]["count"], rule["windowMs"]))
    return rules


def value_at(inner, segments):
    current = inner
    for segment in segments:
        if type(current) is not dict:
            return None
        current = current.get(segment)
    return current


def text_of(value):
    if type(value) is str:
        return value.lower()
    if type(value) in (int, float, bool):
        return str(value).lower()
    return None


def condition_holds(condition, inner):
    segments, exact, patterns = condition
    raw = value_at(inner, segments)
    for candidate in (raw if type(raw) is list else (raw,)):
        text = text_of(candidate)
        if text is None:
            continue
        if text in exact:
            return True
        for pattern in patterns:
            if pattern.match(text):
                return True
    return False


def resolve_actor(inner, actor_fields):
    for segments, kind, prefix in actor_fields:
        raw = value_at(inner, segments)
        if (type(raw) is not str and type(raw) is not int) or raw == "":
            continue
        text = str(raw).strip()
        if text == "":
            continue
        return prefix + (text.lower() if kind == "email" else text)
    return "unknown"


def make_rule_instances(rules):
    instances = []
    for rule_id, _clauses, threshold, window_ms in rules:
        instances.append(FrequencyRule({
            "name": rule_id,
            "type": "frequency",
            "num_events": threshold,
            "timeframe": datetime.timedelta(milliseconds=window_ms),
            "query_key": "actor",
            "timestamp_field": "timestamp",
            "attach_related": False,
        }))
    return instances


def run_once(docs, rules, read_only, actor_fields, interval):
    """One pass over the events: filters, actor, FrequencyRule.add_data per page, garbage_collect per run."""
    instances = make_rule_instances(rules)
    compiled = [clauses for _id, clauses, _t, _w in rules]
    count = len(rules)
    matches = 0
    batches = [[] for _ in range(count)]
    in_page = 0
    boundary = None

    def flush():
        nonlocal matches
        for index in range(count):
            batch = batches[index]
            if batch:
                instance = instances[index]
                instance.add_data(batch)
                matches += len(instance.matches)
                instance.matches = []
                batches[index] = []

    start = time.perf_counter()
    for doc in docs:
        ts = doc["timestamp"]
        if boundary is None:
            epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
            boundary = epoch + ((ts - epoch) // interval + 1) * interval
        if ts >= boundary:
            # A scheduled run ends: the rules get the rest of its page and garbage-collect up to its end.
            flush()
            in_page = 0
            while ts >= boundary:
                for instance in instances:
                    instance.garbage_collect(boundary)
                boundary += interval
        inner = doc.get("attributes")
        if type(inner) is dict:
            action = text_of(inner.get("action"))
            if action is None or action not in read_only:
                actor = None
                for index in range(count):
                    for clause in compiled[index]:
                        holds = True
                        for condition in clause:
                            if not condition_holds(condition, inner):
                                holds = False
                                break
                        if holds:
                            if actor is None:
                                actor = resolve_actor(inner, actor_fields)
                                doc["actor"] = actor
                            batches[index].append(doc)
                            break
        in_page += 1
        if in_page == PAGE:
            flush()
            in_page = 0
    flush()
    for instance in instances:
        instance.garbage_collect(boundary)
    return time.perf_counter() - start, matches


def timed_pass(docs, rules, read_only, actor_fields, interval):
    gc.collect()
    gc.freeze()
    try:
        return run_once(docs, rules, read_only, actor_fields, interval)
    finally:
        gc.unfreeze()


def main():
    args = sys.argv[1:]
    max_seconds = 90.0
    if "--max-seconds" in args:
        at = args.index("--max-seconds")
        max_seconds = float(args[at + 1])
        del args[at:at + 2]
    events_path, rules_path, repetitions = args[0], args[1], int(args[2])
    with open(rules_path, "r", encoding="utf-8") as handle:
        spec = json.load(handle)
    rules = compile_rules(spec)
    read_only = frozenset(action.lower() for action in spec["readOnlyActions"])
    actor_fields = tuple((tuple(f["path"].split(".")), f["kind"], f["prefix"]) for f in spec["actorFields"])
    interval = datetime.timedelta(milliseconds=spec["intervalMs"])

    load_start = time.perf_counter()
    docs = load(events_path)
    load_s = time.perf_counter() - load_start
    total = len(docs)

    # Warm-up on the first 100,000 events; it also says whether a full pass fits in max_seconds.
    warm = docs[:100_000]
    warm_s, _ = timed_pass([dict(d) for d in warm], rules, read_only, actor_fields, interval)
    predicted = warm_s * total / max(1, len(warm))
    used = total if predicted <= max_seconds else max(100_000, int(total * max_seconds / predicted) // 1000 * 1000)
    subset = docs[:used]

    seconds, matches = [], 0
    for _ in range(repetitions):
        fresh = [dict(d) for d in subset]
        elapsed, matches = timed_pass(fresh, rules, read_only, actor_fields, interval)
        seconds.append(elapsed)
        del fresh
    rates = sorted(used / s for s in seconds)
    middle = len(rates) // 2
    median = rates[middle] if len(rates) % 2 else (rates[middle - 1] + rates[middle]) / 2
    print(json.dumps({
        "elastalert2_version": version("elastalert2"),
        "python": sys.version.split()[0],
        "events_loaded": total,
        "events_timed": used,
        "subset": used < total,
        "load_s": load_s,
        "repetitions": repetitions,
        "seconds_per_rep": seconds,
        "events_per_s": median,
        "events_per_s_all": [used / s for s in seconds],
        "matches": matches,
        "rules": [r[0] for r in rules],
    }))


if __name__ == "__main__":
    main()
