#!/bin/sh
# The sample API's web process: every 2 seconds, reports how many users the
# database linked as DATABASE_URL holds. It keeps running when the database
# goes away (during a reset) and reports the error instead.
echo "web: starting on port ${PORT:-5000}"
while true; do
  if [ -z "${DATABASE_URL:-}" ]; then
    echo "web: DATABASE_URL is not set"
  elif out=$(psql "$DATABASE_URL" -X -A -t -c 'select count(*) from users' 2>&1); then
    echo "web: users=$out"
  else
    echo "web: database error: $out"
  fi
  sleep 2
done
