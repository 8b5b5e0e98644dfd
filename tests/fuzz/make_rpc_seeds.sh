#!/bin/sh
# Writes the seeds of rpc_request_fuzz: one valid request per method worth
# starting from, as protoc's text format encoded, behind the method's index
# in rpc_request_fuzz.cc's kMethods. Run from the repository root; the output
# is committed (tests/fuzz/corpus/rpc_request).
set -eu
out=tests/fuzz/corpus/rpc_request
mkdir -p "$out"
seed() {  # NAME INDEX MESSAGE TEXT
  printf "\\$(printf '%03o' "$2")" > "$out/$1.bin"
  printf '%s\n' "$4" | protoc -I proto --encode="cordon.v1.$3" proto/cordon/v1/*.proto >> "$out/$1.bin"
}
T='{seconds: 1790000000}'
T2='{seconds: 1790600000}'
seed hello 0 GateMessage 'hello {gate_id: "north-1"}'
seed scan 0 GateMessage 'scan {credential: "card-S1001" direction: DIRECTION_IN gate_time '"$T"'}'
seed register_gate 1 RegisterGateRequest 'gate_id: "east-9" description: "East"'
seed add_person 3 AddPersonRequest 'external_id: "S9" name: "Li Wei" category: PERSON_CATEGORY_STUDENT cohort: "dorm-a" credentials: "card-9"'
seed set_active 4 SetPersonActiveRequest 'person: "S1001" active: false'
seed get_person 6 GetPersonRequest 'person: "S1001"'
seed import_roster 7 ImportRosterChunk 'rows {line: 2 external_id: "S7" name: "Wang" category: "student" cohort: "dorm-b" credentials: "c7" active: true} skip_bad_rows: true'
seed quarantine 8 SetQuarantineRequest 'person: "S1001" starts_at '"$T"' ends_at '"$T2"' reason: "contact"'
seed pass 10 IssuePassRequest 'person: "V3001" host: "T2001" valid_from '"$T"' valid_until '"$T2"
seed apply_policy 11 ApplyPolicyRequest 'document: "version: 1\nzones:\n  - id: campus\ngates:\n  - {id: north-1, inner: campus}\n" dry_run: true'
seed simulate 15 SimulatePolicyRequest 'document: "version: 1\nzones:\n  - id: campus\n" days: 2 with_decisions: true'
seed mode 16 SetModeRequest 'mode: "closed_management"'
seed health 17 SetHealthRequest 'person: "S1001" colour: HEALTH_COLOUR_YELLOW source: "clinic" at '"$T"
seed leave 18 GrantLeaveRequest 'person: "S1001" exit_from '"$T"' exit_until '"$T2"' return_by '"$T2"' reason: "family" approved_by: "dean"'
seed movements 21 ListMovementsRequest 'person: "S1001" from '"$T"' to '"$T2"' page_size: 10 zone: "canteen-1"'
seed stays 23 ListStaysRequest 'person: "S1001" zone: "campus" from '"$T"' to '"$T2"
seed trace 24 TraceContactsRequest 'person: "S1001" from '"$T"' to '"$T2"' min_exposure_minutes: 5 second_generation: true include_ruled_out: true case_reference: "case-1"'
seed occupancy 25 GetOccupancyRequest 'at '"$T"' zone: "dorms" include_people: true'
seed watch 26 WatchEventsRequest 'zone: "canteen-1" person: "S1001"'
seed report 27 GetDailyReportRequest 'date: "2026-11-23"'
seed audit 31 ListAuditRequest 'from '"$T"' page_size: 5 actor: "admin:ops"'
