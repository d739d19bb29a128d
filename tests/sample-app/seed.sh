#!/bin/sh
# Seeds: N users (default 10), each with one certification course.
# Idempotent for the same N: users are keyed by e-mail.
set -eu
count="${1:-10}"
case "$count" in
  ''|*[!0-9]*) echo "seed: the number of users must be a whole number, got '$count'" >&2; exit 2 ;;
esac
if [ -z "${DATABASE_URL:-}" ]; then
  echo "seed: DATABASE_URL is not set: link a database first" >&2
  exit 1
fi
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<SQL
insert into users (email)
  select 'user' || g || '@example.test' from generate_series(1, $count) as g
  on conflict (email) do nothing;
insert into certification_courses (user_id)
  select u.id from users u
  where not exists (select 1 from certification_courses c where c.user_id = u.id);
SQL
echo "seed: users=$(psql "$DATABASE_URL" -X -A -t -c 'select count(*) from users')"
