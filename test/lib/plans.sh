# Sourced by the plan checks (test/suite.d/50_list_plan.sh, 55_partitions.sh).
# plan_notices DB SQL: runs SQL in DB with auto_explain logging the JSON plan
# of every statement, nested ones too, as NOTICEs; prints what psql writes
# to stderr (the plans, and any ERROR), for the caller to filter.
plan_notices() {
  psql -qX -v ON_ERROR_STOP=1 -d "$1" 2>&1 >/dev/null <<SQL
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_format = json;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
$2
SQL
}
