// cordonctl: administrators and the security office talk to cordond.
#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>

#include "ctl/commands.h"
#include "tls/client_credentials.h"

int main(int argc, char** argv) {
  using cordon::ctl::Commands;
  cordon::ctl::Options options;
  CLI::App app{"cordonctl: administer Cordon (gates, people, quarantine, passes) and query it "
               "(movements, who is on campus, alerts)."};
  app.require_subcommand(1);
  app.add_option("-d,--daemon", options.daemon, "cordond address (default 127.0.0.1:7400)")
      ->envname("CORDON_DAEMON");
  app.add_flag("--json", options.json, "print the daemon's reply as JSON (for programs)");
  app.add_option("--timeout-s", options.timeout_s, "give up on a request after this many seconds");
  cordon::tls::ClientTls tls;
  app.add_option("--tls-ca", tls.ca_file, "the campus CA certificate (PEM; env CORDON_TLS_CA)");
  app.add_option("--tls-cert", tls.cert_file,
                 "your operator certificate (PEM; env CORDON_TLS_CERT); its role decides what "
                 "you may do");
  app.add_option("--tls-key", tls.key_file, "its private key (PEM; env CORDON_TLS_KEY)");
  app.add_flag("--insecure", tls.insecure,
               "plain text, for a daemon started with --insecure (env CORDON_INSECURE=1)");

  std::function<int(Commands&)> run;
  auto on = [&](CLI::App* cmd, std::function<int(Commands&)> fn) {
    cmd->callback([&run, fn = std::move(fn)] { run = fn; });
  };

  // gate
  auto* gate = app.add_subcommand("gate", "register and list gates")->require_subcommand(1);
  std::string gate_id, description;
  auto* gate_add = gate->add_subcommand("add", "register a gate so its agent may connect");
  gate_add->add_option("GATE_ID", gate_id, "e.g. north-1")->required();
  gate_add->add_option("--description", description, "where the gate is");
  on(gate_add, [&](Commands& c) { return c.GateAdd(gate_id, description); });
  on(gate->add_subcommand("list", "registered gates and whether they are connected"),
     [&](Commands& c) { return c.GateList(); });

  // person
  auto* person = app.add_subcommand("person", "add, list and show people")->require_subcommand(1);
  Commands::PersonFields fields;
  auto* person_add = person->add_subcommand("add", "add one person");
  person_add->add_option("EXTERNAL_ID", fields.external_id, "staff or student number")->required();
  person_add->add_option("--name", fields.name, "full name")->required();
  person_add->add_option("--category", fields.category,
                         "resident_staff, student, single_visit, contractor, vehicle or delivery")->required();
  person_add->add_option("--cohort", fields.cohort, "e.g. dorm-7");
  person_add->add_option("--credential", fields.credentials, "card number or QR payload (repeatable)");
  person_add->add_option("--valid-until", fields.valid_until, "denied from this time on");
  person_add->add_flag("--inactive", fields.inactive, "add as inactive (denied everywhere)");
  on(person_add, [&](Commands& c) { return c.PersonAdd(fields); });

  std::string category, cohort, who;
  int limit = 1000;
  auto* person_list = person->add_subcommand("list", "list people");
  person_list->add_option("--category", category, "only this category");
  person_list->add_option("--cohort", cohort, "only this cohort");
  person_list->add_option("--limit", limit, "at most this many (0: all; default 1000)");
  on(person_list, [&](Commands& c) { return c.PersonList(category, cohort, limit); });
  auto* person_show = person->add_subcommand("show", "one person, their orders and passes");
  person_show->add_option("PERSON", who, "external id")->required();
  on(person_show, [&](Commands& c) { return c.PersonShow(who); });
  auto* person_activate = person->add_subcommand("activate", "allow the person again");
  person_activate->add_option("PERSON", who, "external id")->required();
  on(person_activate, [&](Commands& c) { return c.PersonSetActive(who, true); });
  auto* person_deactivate = person->add_subcommand("deactivate", "deny the person at every gate");
  person_deactivate->add_option("PERSON", who, "external id")->required();
  on(person_deactivate, [&](Commands& c) { return c.PersonSetActive(who, false); });

  // roster
  auto* roster = app.add_subcommand("roster", "import people from a CSV file")->require_subcommand(1);
  std::string roster_path;
  bool skip_bad_rows = false, dry_run = false;
  auto* roster_import = roster->add_subcommand(
      "import", "columns: external_id,name,category,cohort,credential,active,valid_until");
  roster_import->add_option("FILE", roster_path, "CSV file with a header row")->required();
  roster_import->add_flag("--skip-bad-rows", skip_bad_rows,
                          "import the good rows even if some are bad (default: all or nothing)");
  roster_import->add_flag("--dry-run", dry_run, "check and report, change nothing");
  on(roster_import, [&](Commands& c) { return c.RosterImport(roster_path, skip_bad_rows, dry_run); });

  // quarantine
  auto* quarantine = app.add_subcommand("quarantine", "quarantine and isolation orders")
                         ->require_subcommand(1);
  std::string from, until, to, reason, host;
  auto* q_set = quarantine->add_subcommand("set", "deny entry from --from (default now) to --until");
  q_set->add_option("PERSON", who, "external id")->required();
  q_set->add_option("--from", from, "start (default now)");
  q_set->add_option("--until", until, "end, e.g. +14d or 2026-12-06 08:00")->required();
  q_set->add_option("--reason", reason, "e.g. close contact of case 3");
  on(q_set, [&](Commands& c) { return c.QuarantineSet(who, from, until, reason); });
  auto* q_clear = quarantine->add_subcommand("clear", "lift the person's active or pending orders");
  q_clear->add_option("PERSON", who, "external id")->required();
  on(q_clear, [&](Commands& c) { return c.QuarantineClear(who); });

  // pass
  auto* pass = app.add_subcommand("pass", "single-visit passes")->require_subcommand(1);
  auto* pass_issue = pass->add_subcommand("issue", "one entry and one exit within a window");
  pass_issue->add_option("PERSON", who, "external id of a single_visit or contractor person")
      ->required();
  pass_issue->add_option("--host", host, "who on campus receives the visitor")->required();
  pass_issue->add_option("--from", from, "entry allowed from (default now)");
  pass_issue->add_option("--until", until, "entry allowed until, e.g. +4h")->required();
  on(pass_issue, [&](Commands& c) { return c.PassIssue(who, host, from, until); });

  // campus policy
  auto* policy = app.add_subcommand("policy", "the campus policy document: zones, cohorts, modes")
                     ->require_subcommand(1);
  std::string policy_file;
  int64_t version = 0;
  bool policy_dry_run = false;
  auto* policy_apply = policy->add_subcommand(
      "apply", "validate FILE, show what changes, and apply it as a new version");
  policy_apply->add_option("FILE", policy_file, "YAML policy document")->required();
  policy_apply->add_flag("--dry-run", policy_dry_run, "validate and show the changes only");
  on(policy_apply, [&](Commands& c) { return c.PolicyApply(policy_file, policy_dry_run); });
  int days = 7;
  bool show_decisions = false;
  auto* policy_simulate = policy->add_subcommand(
      "simulate", "replay the last days of recorded scans against FILE; changes nothing");
  policy_simulate->add_option("FILE", policy_file, "candidate YAML policy document")->required();
  policy_simulate->add_option("--days", days, "how many days back (default 7)");
  policy_simulate->add_flag("--decisions", show_decisions, "list every scan decided differently");
  on(policy_simulate, [&](Commands& c) { return c.PolicySimulate(policy_file, days, show_decisions); });
  auto* policy_show = policy->add_subcommand("show", "print the document in force");
  policy_show->add_option("--version", version, "as applied at this version instead");
  on(policy_show, [&](Commands& c) { return c.PolicyShow(version); });
  on(policy->add_subcommand("history", "every document version and mode switch"),
     [&](Commands& c) { return c.PolicyHistory(); });
  auto* policy_rollback = policy->add_subcommand(
      "rollback", "apply the document of an earlier version again, as a new version");
  policy_rollback->add_option("VERSION", version, "a version from policy history")->required();
  on(policy_rollback, [&](Commands& c) { return c.PolicyRollback(version); });

  auto* mode = app.add_subcommand("mode", "the campus mode")->require_subcommand(1);
  std::string mode_id;
  auto* mode_set = mode->add_subcommand("set", "switch every gate to another mode of the policy");
  mode_set->add_option("MODE", mode_id, "e.g. closed_management, partial_reopening, normal")
      ->required();
  on(mode_set, [&](Commands& c) { return c.ModeSet(mode_id); });

  // health codes, leaves, disinfection
  auto* health_code = app.add_subcommand("health-code", "a person's health code")
                          ->require_subcommand(1);
  std::string colour, source, at;
  auto* hc_set = health_code->add_subcommand("set", "record a colour and where it came from");
  hc_set->add_option("PERSON", who, "external id")->required();
  hc_set->add_option("COLOUR", colour, "green, yellow or red")->required();
  hc_set->add_option("--source", source, "e.g. provincial health code")->required();
  hc_set->add_option("--at", at, "when the source issued it (default now)");
  on(hc_set, [&](Commands& c) { return c.HealthSet(who, colour, source, at); });

  auto* leave = app.add_subcommand("leave", "leave approvals (closed management)")
                    ->require_subcommand(1);
  std::string return_by, approved_by;
  auto* leave_grant = leave->add_subcommand("grant", "one exit in a window, back by a time");
  leave_grant->add_option("PERSON", who, "external id of a student or resident")->required();
  leave_grant->add_option("--from", from, "exit allowed from (default now)");
  leave_grant->add_option("--until", until, "exit allowed until, e.g. +4h")->required();
  leave_grant->add_option("--return-by", return_by, "back on campus by, e.g. +2d")->required();
  leave_grant->add_option("--reason", reason, "e.g. hospital appointment");
  leave_grant->add_option("--approved-by", approved_by, "who approved it");
  on(leave_grant, [&](Commands& c) {
    return c.LeaveGrant(who, from, until, return_by, reason, approved_by);
  });

  auto* disinfect = app.add_subcommand("disinfect", "record a vehicle's or delivery's disinfection");
  std::string recorded_by;
  disinfect->add_option("PERSON", who, "external id of the vehicle or delivery")->required();
  disinfect->add_option("--at", at, "when (default now)");
  disinfect->add_option("--by", recorded_by, "who disinfected it");
  on(disinfect, [&](Commands& c) { return c.Disinfect(who, at, recorded_by); });

  // security office
  bool csv = false;
  Commands::MovementFlags mf;
  auto* movements = app.add_subcommand(
      "movements", "recorded scans by person, gate, zone or time range (table, JSON or CSV)");
  movements->add_option("PERSON", mf.person, "only this person (external id)");
  movements->add_option("--gate", mf.gate, "only at this gate");
  movements->add_option("--zone", mf.zone, "only at the gates of this zone or zones inside it");
  movements->add_option("--decision", mf.decision, "allowed or denied");
  movements->add_option("--from", mf.from, "start (default: the beginning)");
  movements->add_option("--to", mf.to, "end (default now)");
  movements->add_option("--limit", mf.limit, "at most this many (0: all; default 1000)");
  movements->add_option("--format", mf.format, "table (default), json or csv");
  movements->add_flag("--csv", csv, "same as --format csv");
  on(movements, [&](Commands& c) {
    if (csv) mf.format = "csv";
    return c.Movements(mf);
  });
  std::string zone;
  auto* presence = app.add_subcommand("presence", "who is on campus now, and in which zone");
  presence->add_option("--zone", zone, "only those in this zone or below it");
  on(presence, [&](Commands& c) { return c.Presence(zone); });

  std::string format = "table";
  auto* stays = app.add_subcommand(
      "stays", "presence intervals (person, zone, entered, exited) of a person or a zone");
  stays->add_option("PERSON", who, "external id");
  stays->add_option("--zone", zone, "every stay in this zone instead");
  stays->add_option("--from", from, "start (default -1d)");
  stays->add_option("--to", to, "end (default now)");
  stays->add_option("--format", format, "table (default), json or csv");
  on(stays, [&](Commands& c) { return c.Stays(who, zone, from, to, format); });

  Commands::TraceFlags tf;
  auto* trace = app.add_subcommand(
      "trace", "contact tracing: who shared a zone with a person, and for how long");
  trace->add_option("PERSON", tf.person, "external id of the index case")->required();
  trace->add_option("--from", tf.from, "window start (default -14d)");
  trace->add_option("--to", tf.to, "window end (default now)");
  trace->add_option("--min-minutes", tf.min_minutes, "cumulative minutes that make a contact (default 15)");
  trace->add_flag("--second-generation", tf.second_generation,
                  "also the contacts of contacts, from their first contact");
  trace->add_flag("--ruled-out", tf.ruled_out,
                  "also list who was in the same zones that day without overlapping");
  trace->add_option("--case", tf.case_reference,
                    "the case or purpose this trace is for, e.g. \"case 2022-031\" (required; kept in the audit log)")
      ->required();
  trace->add_option("--format", tf.format, "table (default), json, csv or dot (Graphviz)");
  on(trace, [&](Commands& c) { return c.Trace(tf); });

  bool people = false;
  auto* occupancy = app.add_subcommand("occupancy", "how many are in each zone, now or at a past time");
  occupancy->add_option("--at", at, "a past time (default now)");
  occupancy->add_option("--zone", zone, "only this zone and those inside it");
  occupancy->add_flag("--people", people, "also list who is in each zone");
  on(occupancy, [&](Commands& c) { return c.Occupancy(at, zone, people); });

  int watch_events = 0;
  auto* watch = app.add_subcommand("watch", "print scans as they are recorded (the live view)");
  watch->add_option("--gate", mf.gate, "only at this gate");
  watch->add_option("--zone", mf.zone, "only scans into or out of this zone (or inside it)");
  watch->add_option("--decision", mf.decision, "allowed or denied");
  watch->add_option("--person", mf.person, "only this person");
  watch->add_option("--count", watch_events, "stop after this many");
  on(watch, [&](Commands& c) { return c.Watch(mf, watch_events); });

  std::string date;
  auto* report = app.add_subcommand("report", "reports")->require_subcommand(1);
  auto* daily = report->add_subcommand(
      "daily", "the daily briefing as Markdown (--json for programs)");
  daily->add_option("--date", date, "YYYY-MM-DD, campus local (default: today on the campus)");
  on(daily, [&](Commands& c) { return c.ReportDaily(date); });

  Commands::AlertFlags alert_flags;
  auto add_alert_filters = [&](CLI::App* cmd) {
    cmd->add_option("--kind", alert_flags.kinds,
                    "only these kinds, e.g. separation_attempt (repeatable)");
    cmd->add_option("--min-severity", alert_flags.min_severity, "info, warning or critical");
    cmd->add_option("--person", alert_flags.person, "only about this person");
    cmd->add_option("--gate", alert_flags.gate, "only at this gate");
    cmd->add_flag("--open", alert_flags.open_only, "only those not yet acknowledged");
  };
  auto* alerts = app.add_subcommand("alerts", "alerts: list (default), watch live, acknowledge")
                     ->require_subcommand(0, 1);
  alerts->add_option("--from", from, "start (default: the beginning)");
  alerts->add_option("--to", to, "end (default now)");
  alerts->add_option("--limit", limit, "at most this many (default 1000)");
  add_alert_filters(alerts);
  // CLI11 runs a parent's callback after its subcommand's: list only when
  // no subcommand (watch, ack) was given.
  alerts->callback([&] {
    if (alerts->get_subcommands().empty()) {
      run = [&](Commands& c) { return c.Alerts(from, to, limit, alert_flags); };
    }
  });
  int64_t since_id = 0, alert_id = 0;
  int watch_count = 0;
  std::string operator_name;
  auto* alerts_watch = alerts->add_subcommand("watch", "print alerts as they are raised");
  add_alert_filters(alerts_watch);
  alerts_watch->add_option("--since-id", since_id, "first resend those after this id");
  alerts_watch->add_option("--count", watch_count, "stop after this many");
  on(alerts_watch, [&](Commands& c) { return c.AlertsWatch(alert_flags, since_id, watch_count); });
  auto* alerts_ack = alerts->add_subcommand("ack", "take an alert in hand, by name");
  alerts_ack->add_option("ID", alert_id, "the alert's id")->required();
  alerts_ack->add_option("--operator", operator_name, "your name or staff number")->required();
  on(alerts_ack, [&](Commands& c) { return c.AlertsAck(alert_id, operator_name); });

  // operations
  std::string backup_file;
  auto* backup = app.add_subcommand(
      "backup", "take a consistent online copy of the daemon's database (gates keep flowing)");
  backup->add_option("FILE", backup_file, "new file to write the copy to")->required();
  on(backup, [&](Commands& c) { return c.Backup(backup_file); });
  on(app.add_subcommand("health", "is cordond serving? (exit 0 when SERVING)"),
     [&](Commands& c) { return c.Health(); });

  // audit (the auditor's certificate)
  auto* audit = app.add_subcommand("audit", "the audit log of reads and changes (auditor role)")
                    ->require_subcommand(1);
  std::string audit_from, audit_to, audit_actor;
  int audit_limit = 0;
  auto* audit_list = audit->add_subcommand("list", "entries in order: who read or changed what, "
                                                   "when, why, how many rows");
  audit_list->add_option("--from", audit_from, "from this time (e.g. 2026-11-20 or -7d)");
  audit_list->add_option("--to", audit_to, "until this time");
  audit_list->add_option("--actor", audit_actor, "only this actor, e.g. security:alice");
  audit_list->add_option("--limit", audit_limit, "at most this many entries (default: all)");
  on(audit_list, [&](Commands& c) { return c.AuditList(audit_from, audit_to, audit_actor, audit_limit); });
  on(audit->add_subcommand("verify", "recompute the hash chain; exit 1 naming every edited or "
                                     "deleted entry"),
     [&](Commands& c) { return c.AuditVerify(); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return cordon::ctl::kUsage;
  }
  auto credentials = cordon::tls::ChannelCredentials(cordon::tls::FromEnvironment(tls));
  if (!credentials.ok()) {
    std::cerr << "cordonctl: " << credentials.status().message() << "\n";
    return cordon::ctl::kUsage;
  }
  options.credentials = *credentials;
  Commands commands(options, std::cout, std::cerr);
  return run ? run(commands) : cordon::ctl::kUsage;
}
