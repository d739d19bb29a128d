//! Every recorded case in the shared fixtures folder goes through
//! `parse_case`, and its result must match the case's `expected.json`; each
//! case is also snapshotted whole. Extra inline cases cover versions and
//! shapes the folder does not show. One data-driven helper runs them all.

use std::path::{Path, PathBuf};

use dokku_client::parse::{parse_case, shell_split, ParsedCase};
use serde_json::{json, Value};

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("DOKKU_FIXTURES_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/dokku/fixtures"),
    }
}

/// What a case must produce.
struct Expect {
    result: Value,
    error: Value,
    success: bool,
    stderr_messages: Value,
}

/// The one helper: parse, compare, and report every mismatch by name.
fn check(name: &str, case: &ParsedCase, expect: &Expect) -> Vec<String> {
    let mut problems = Vec::new();
    if case.result != expect.result {
        problems.push(format!(
            "{name}: result\n  got:      {}\n  expected: {}",
            case.result, expect.result
        ));
    }
    let message = case
        .error
        .as_ref()
        .and_then(|e| e.message.clone())
        .map(Value::String)
        .unwrap_or(Value::Null);
    if message != expect.error {
        problems.push(format!(
            "{name}: error message got {message}, expected {}",
            expect.error
        ));
    }
    if case.ok != expect.success {
        problems.push(format!(
            "{name}: ok got {}, expected {}",
            case.ok, expect.success
        ));
    }
    let msgs = json!(case.stderr_messages);
    if msgs != expect.stderr_messages {
        problems.push(format!(
            "{name}: stderr_messages got {msgs}, expected {}",
            expect.stderr_messages
        ));
    }
    problems
}

#[test]
fn every_fixture_case_parses_as_expected() {
    let dir = fixtures_dir();
    assert!(
        dir.is_dir(),
        "fixtures folder {} not found: set DOKKU_FIXTURES_DIR to the folder holding the <case>/{{cmd,stdout,stderr,exit_code,expected.json}} cases",
        dir.display()
    );
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no cases in {}", dir.display());
    let mut problems = Vec::new();
    for path in &names {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let read = |f: &str| std::fs::read(path.join(f)).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&read("cmd")).trim_end().to_string();
        let exit: i32 = String::from_utf8_lossy(&read("exit_code"))
            .trim()
            .parse()
            .unwrap();
        let expected: Value = serde_json::from_slice(&read("expected.json")).unwrap();
        let case = parse_case(&shell_split(&cmd), &read("stdout"), &read("stderr"), exit);
        assert_eq!(case.exit_code, exit);
        problems.extend(check(
            &name,
            &case,
            &Expect {
                result: expected["result"].clone(),
                error: expected["error"].clone(),
                success: expected["success"].as_bool().unwrap(),
                stderr_messages: expected["stderr_messages"].clone(),
            },
        ));
        insta::with_settings!({ snapshot_suffix => name.clone(), prepend_module_to_snapshot => false }, {
            insta::assert_json_snapshot!("fixture", case);
        });
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Inline cases: (name, cmd, stdout, stderr, exit, expected result, expected error).
fn inline_cases() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i32,
    Value,
    Value,
)> {
    vec![
        (
            "apps-report-0.19-bash-padding",
            "apps:report myapp",
            "=====> myapp app information\n       App dir:                       /home/dokku/myapp        \n       Git sha:                       2f6d3c9                  \n       Deploy source:                 git                      \n       Locked:                        false                    \n",
            "",
            0,
            json!({"reports": [{"subject": "myapp", "type": "app", "fields": {"App dir": "/home/dokku/myapp", "Git sha": "2f6d3c9", "Deploy source": "git", "Locked": "false"}}]}),
            Value::Null,
        ),
        (
            "ps-report-0.19-bash-status",
            "ps:report myapp",
            "=====> myapp ps information\n       Deployed:                      true                     \n       Status web.1:                  running    (CID: 0123456789ab)\n",
            "",
            0,
            json!({"reports": [{"subject": "myapp", "type": "ps", "fields": {"Deployed": "true", "Status web.1": "running    (CID: 0123456789ab)"}}], "containers": [{"process": "web.1", "status": "running", "cid": "0123456789ab"}]}),
            Value::Null,
        ),
        (
            "apps-report-0.30-json-legacy-keys",
            "apps:report myapp --format json",
            "{\"app-deploy-source\":\"git\",\"app-dir\":\"/home/dokku/myapp\",\"app-locked\":\"false\"}\n",
            "",
            0,
            json!({"json": {"app-deploy-source": "git", "app-dir": "/home/dokku/myapp", "app-locked": "false"}}),
            Value::Null,
        ),
        (
            "apps-report-ndjson-all-apps",
            "apps:report --format json",
            "{\"dir\":\"/home/dokku/a\"}\n{\"dir\":\"/home/dokku/b\"}\n",
            "",
            0,
            json!({"json_lines": [{"dir": "/home/dokku/a"}, {"dir": "/home/dokku/b"}]}),
            Value::Null,
        ),
        (
            "apps-report-all-blocks-crlf",
            "apps:report",
            "=====> a app information\r\n       App dir:                         /home/dokku/a\r\n=====> b app information\r\n       App dir:                         /home/dokku/b\r\n",
            "",
            0,
            json!({"reports": [{"subject": "a", "type": "app", "fields": {"App dir": "/home/dokku/a"}}, {"subject": "b", "type": "app", "fields": {"App dir": "/home/dokku/b"}}]}),
            Value::Null,
        ),
        (
            "error-pre-0.22-bare",
            "apps:create myapp",
            "",
            "Name is already taken\n",
            1,
            json!({"created": false}),
            json!("Name is already taken"),
        ),
        (
            "error-failed-prefix-go-0.11",
            "config:set myapp FOO-BAR=1",
            "",
            "FAILED: Invalid key name: 'FOO-BAR'\n",
            1,
            Value::Null,
            json!("Invalid key name: 'FOO-BAR'"),
        ),
        (
            "error-doubled-trigger-prefix",
            "ps:rebuild myapp",
            "",
            " !     myapp currently has a deploy lock in place. Exiting...\n !      !     myapp currently has a deploy lock in place. Exiting...\n\n",
            1,
            Value::Null,
            json!("myapp currently has a deploy lock in place. Exiting..."),
        ),
        (
            "config-get-missing-xargs-123",
            "config:get myapp NOPE",
            "",
            "",
            123,
            json!({"value": null}),
            Value::Null,
        ),
        (
            "postgres-info-container-information-1.1",
            "postgres:info lollipop",
            "=====> Container Information\n       Config dir:          /var/lib/dokku/services/postgres/lollipop/config\n       Data dir:            /var/lib/dokku/services/postgres/lollipop/data\n       Dsn:                 postgres://postgres:abc@dokku-postgres-lollipop:5432/lollipop\n       Exposed ports:       5432->32768              \n       Id:                  0123abcd                 \n       Internal ip:         172.17.0.2               \n       Links:               a b                      \n       Service root:        /var/lib/dokku/services/postgres/lollipop\n       Status:              running                  \n       Version:             postgres:9.5.0           \n",
            "",
            0,
            json!({"service": "lollipop", "fields": {"Config dir": "/var/lib/dokku/services/postgres/lollipop/config", "Data dir": "/var/lib/dokku/services/postgres/lollipop/data", "Dsn": "postgres://postgres:abc@dokku-postgres-lollipop:5432/lollipop", "Exposed ports": "5432->32768", "Id": "0123abcd", "Internal ip": "172.17.0.2", "Links": "a b", "Service root": "/var/lib/dokku/services/postgres/lollipop", "Status": "running", "Version": "postgres:9.5.0"}, "config_dir": "/var/lib/dokku/services/postgres/lollipop/config", "data_dir": "/var/lib/dokku/services/postgres/lollipop/data", "dsn": "postgres://postgres:abc@dokku-postgres-lollipop:5432/lollipop", "exposed_ports": [{"container": 5432, "host": 32768}], "id": "0123abcd", "internal_ip": "172.17.0.2", "links": ["a", "b"], "service_root": "/var/lib/dokku/services/postgres/lollipop", "status": "running", "version": "postgres:9.5.0"}),
            Value::Null,
        ),
        (
            "postgres-info-dsn-1.0.0",
            "postgres:info lollipop",
            "       DSN: postgres://postgres:abc@dokku-postgres-lollipop:5432/lollipop\n",
            "",
            0,
            json!({"service": "lollipop", "fields": {"DSN": "postgres://postgres:abc@dokku-postgres-lollipop:5432/lollipop"}, "dsn": "postgres://postgres:abc@dokku-postgres-lollipop:5432/lollipop"}),
            Value::Null,
        ),
        (
            "postgres-list-1.9-table",
            "postgres:list",
            "NAME      VERSION         STATUS   EXPOSED PORTS  LINKS\nlollipop  postgres:9.6.1  running  -              myapp\nother     postgres:9.6.1  stopped  5432->32768    -\n",
            "",
            0,
            json!({"services": [{"name": "lollipop", "version": "postgres:9.6.1", "status": "running", "exposed_ports": "-", "links": "myapp"}, {"name": "other", "version": "postgres:9.6.1", "status": "stopped", "exposed_ports": "5432->32768", "links": "-"}]}),
            Value::Null,
        ),
        (
            "config-show-multiline",
            "config:show myapp",
            "=====> myapp env vars\nCERT:   -----BEGIN-----\nabc\n-----END-----\nEMPTY:  \nPORT:   5000\n",
            "",
            0,
            json!({"app": "myapp", "vars_as_displayed": {"CERT": "-----BEGIN-----\nabc\n-----END-----", "EMPTY": "", "PORT": "5000"}}),
            Value::Null,
        ),
        (
            "config-show-0.10-config-vars",
            "config myapp",
            "=====> myapp config vars\nPORT:  5000\n",
            "",
            0,
            json!({"app": "myapp", "vars_as_displayed": {"PORT": "5000"}}),
            Value::Null,
        ),
        (
            "config-export-json-list",
            "config:export --format json-list myapp",
            "[{\"name\":\"A\",\"value\":\"1\"}]\n",
            "",
            0,
            json!({"format": "json-list", "vars": {"A": "1"}}),
            Value::Null,
        ),
        (
            "ps-scale-0.4",
            "ps:scale myapp",
            "-----> proctype           qty                      \n-----> --------           ---                      \n-----> web                1                        \n",
            "",
            0,
            json!({"app": null, "formation": {"web": 1}}),
            Value::Null,
        ),
        (
            "apps-list-0.4-old-apps",
            "apps",
            "=====> My Apps\nmyapp\n",
            "",
            0,
            json!({"apps": ["myapp"]}),
            Value::Null,
        ),
        (
            "version-0.4-bare",
            "version",
            "v0.4.14\n",
            "",
            0,
            json!({"version": "0.4.14"}),
            Value::Null,
        ),
        (
            "apps-exists-pre-0.24-exit-1",
            "apps:exists nope",
            "",
            " !     App nope does not exist\n",
            1,
            json!({"exists": false}),
            json!("App nope does not exist"),
        ),
        (
            "pflag-unknown-flag",
            "apps:list --quiet",
            "",
            "Usage of apps:list:\n      --format string   format (default \"stdout\")\nunknown flag: --quiet\n",
            2,
            Value::Null,
            json!("unknown flag: --quiet"),
        ),
        (
            "error-pre-0.22-through-pty",
            "config:show ghost",
            "App ghost does not exist\r\n",
            "",
            1,
            Value::Null,
            json!("App ghost does not exist"),
        ),
        (
            "logs-quiet-raw",
            "logs myapp -q",
            "GET / 200\n",
            "",
            0,
            json!({"lines": [{"timestamp": null, "process": null, "message": "GET / 200"}]}),
            Value::Null,
        ),
        // storage:list as plugins/storage/storage.go prints it (0.38):
        // formatStorageListEntry's `host:container[:ro,options]` lines under
        // LogInfo1Quiet, and StorageListEntry's JSON with omitempty fields.
        (
            "storage-list-0.38-text-options",
            "storage:list app1",
            "=====> app1 volume bind-mounts:\n       /srv/x:/x\n       /var/lib/dokku/data/storage/data:/data:ro,Z\n",
            "",
            0,
            json!({"mounts": [{"host_path": "/srv/x", "container_path": "/x"}, {"host_path": "/var/lib/dokku/data/storage/data", "container_path": "/data:ro,Z"}]}),
            Value::Null,
        ),
        (
            "storage-list-0.38-json",
            "storage:list app1 --format json",
            "[{\"entry_name\":\"legacy-2f1c\",\"host_path\":\"/srv/x\",\"container_path\":\"/x\"},{\"entry_name\":\"data\",\"host_path\":\"/var/lib/dokku/data/storage/data\",\"container_path\":\"/data\",\"readonly\":true,\"volume_options\":\"Z\"}]\n",
            "",
            0,
            json!({"mounts": [{"host_path": "/srv/x", "container_path": "/x"}, {"host_path": "/var/lib/dokku/data/storage/data", "container_path": "/data:ro,Z"}]}),
            Value::Null,
        ),
        // plugin:list --format json: plugins/plugin/plugin.go's PluginInfo.
        (
            "plugin-list-0.38-json",
            "plugin:list --format json",
            "[{\"name\":\"postgres\",\"version\":\"1.48.0\",\"enabled\":true,\"core\":false,\"description\":\"dokku postgres service plugin\",\"source_url\":\"https://github.com/dokku/dokku-postgres.git\",\"committish\":\"1.48.0\",\"branch\":\"\"}]\n",
            "",
            0,
            json!({"plugins": [{"name": "postgres", "version": "1.48.0", "enabled": true, "description": "dokku postgres service plugin"}]}),
            Value::Null,
        ),
        // ssh-keys:list --format json: sshcommand list's sed rows.
        (
            "ssh-keys-list-0.38-json",
            "ssh-keys:list --format json",
            "[{ \"fingerprint\": \"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\", \"name\": \"admin\", \"SSHCOMMAND_ALLOWED_KEYS\": \"no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding\", \"public-key\": \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB admin@laptop\" }]\n",
            "",
            0,
            json!({"keys": [{"fingerprint": "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "name": "admin"}]}),
            Value::Null,
        ),
    ]
}

#[test]
fn inline_cases_for_versions_the_fixtures_do_not_show() {
    let mut problems = Vec::new();
    for (name, cmd, stdout, stderr, exit, result, error) in inline_cases() {
        let case = parse_case(
            &shell_split(cmd),
            stdout.as_bytes(),
            stderr.as_bytes(),
            exit,
        );
        let stderr_messages = json!(dokku_client::parse::stderr_messages(stderr.as_bytes()));
        problems.extend(check(
            name,
            &case,
            &Expect {
                result,
                error,
                success: exit == 0,
                stderr_messages,
            },
        ));
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A list asked for with `--format json` that printed text (a server too old
/// for the flag, a proxy's banner) is a parse error naming the command,
/// never the text parser's reading of it; its JSON is read.
#[test]
fn json_lists_that_print_no_json_are_errors() {
    for (cmd, text, json) in [
        ("apps:list --format json", "=====> My Apps\napi\n", "[\"api\"]\n"),
        ("ps:scale myapp --format json", "-----> Scaling for myapp\nweb:  1\n", "[{\"process_type\":\"web\",\"quantity\":1}]\n"),
        ("plugin:list --format json", "  postgres 1.48.0 enabled dokku postgres service plugin\n", "[{\"name\":\"postgres\",\"version\":\"1.48.0\",\"enabled\":true,\"description\":\"dokku postgres service plugin\"}]\n"),
        ("ssh-keys:list --format json", "SHA256:abc NAME=\"admin\" SSHCOMMAND_ALLOWED_KEYS=\"x\"\n", "[{\"fingerprint\":\"SHA256:abc\",\"name\":\"admin\"}]\n"),
        ("storage:list myapp --format json", "=====> myapp volume bind-mounts:\n       /h:/c\n", "[{\"host_path\":\"/h\",\"container_path\":\"/c\"}]\n"),
    ] {
        let argv = shell_split(cmd);
        let case = parse_case(&argv, text.as_bytes(), b"", 0);
        let message = case.error.as_ref().and_then(|e| e.message.clone());
        assert!(
            !case.ok && message.as_deref().is_some_and(|m| m.starts_with(argv[0].as_str()) && m.contains("--format json")),
            "{cmd}: {:?}",
            case.error
        );
        let case = parse_case(&argv, json.as_bytes(), b"", 0);
        assert!(case.ok && case.result != Value::Null, "{cmd}: {:?}", case.error);
        let without_flag: Vec<String> = argv.iter().filter(|a| *a != "--format" && *a != "json").cloned().collect();
        let as_text = parse_case(&without_flag, text.as_bytes(), b"", 0);
        assert_eq!(case.typed, as_text.typed, "{cmd}: the two forms differ");
    }
}

#[test]
fn typed_values_use_snake_case_names() {
    let stdout = std::fs::read(fixtures_dir().join("apps-report-basic/stdout"));
    let stdout = stdout.unwrap_or_else(|_| {
        b"=====> myapp app information\n       App deploy source:  git-push\n".to_vec()
    });
    let case = parse_case(&shell_split("apps:report myapp"), &stdout, b"", 0);
    assert_eq!(case.typed["deploy_source"], json!("git-push"));
    assert_eq!(case.typed["app"], json!("myapp"));
    let case = parse_case(
        &shell_split("postgres:info db"),
        b"       Dsn:   postgres://postgres:secret@h:5432/db\n",
        b"",
        0,
    );
    assert_eq!(
        case.typed["dsn"],
        json!("postgres://postgres:***@h:5432/db")
    );
}
