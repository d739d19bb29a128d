#!/bin/sh
# Migrations (idempotent): run by the predeploy script on every deploy and
# after a database reset.
set -eu
if [ -z "${DATABASE_URL:-}" ]; then
  echo "migrate: DATABASE_URL is not set: link a database first (dokku postgres:link SERVICE APP)" >&2
  exit 1
fi
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<'SQL'
set client_min_messages to warning;
create table if not exists schema_migrations (version text primary key);
create table if not exists users (
  id serial primary key,
  email text not null unique,
  created_at timestamptz not null default now()
);
create table if not exists certification_courses (
  id serial primary key,
  user_id integer not null references users(id) on delete cascade,
  status text not null default 'started'
);
insert into schema_migrations (version)
  values ('20240101000000_create_users'), ('20240102000000_create_certification_courses')
  on conflict do nothing;
SQL
echo "migrate: schema up to date ($(psql "$DATABASE_URL" -X -A -t -c 'select count(*) from schema_migrations') migrations)"
