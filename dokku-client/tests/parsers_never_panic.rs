//! Property test: no parser panics, whatever the bytes and the command line.

use dokku_client::parse;
use proptest::prelude::*;

/// The shared invocation list (see the file's header), plus the empty one.
fn invocations() -> Vec<&'static str> {
    include_str!("data/invocations.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .chain([""])
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_case_never_panics(
        cmd in prop::sample::select(invocations()),
        extra in prop::collection::vec("[ -~]{0,8}", 0..3),
        stdout in prop::collection::vec(any::<u8>(), 0..400),
        stderr in prop::collection::vec(any::<u8>(), 0..200),
        exit in prop::sample::select(vec![0, 1, 2, 20, 123, 255, -1]),
    ) {
        let mut argv = parse::shell_split(cmd);
        argv.extend(extra);
        let case = parse::parse_case(&argv, &stdout, &stderr, exit);
        prop_assert_eq!(case.exit_code, exit);
        prop_assert!(!(case.ok && exit != 0));
        prop_assert!(serde_json::to_string(&case).is_ok());
    }

    #[test]
    fn structured_looking_text_never_panics(
        cmd in prop::sample::select(invocations()),
        lines in prop::collection::vec(
            prop_oneof![
                Just("=====> a app information".to_string()),
                Just("=====> Container Information".to_string()),
                Just("-----> Setting config vars".to_string()),
                Just("-----> Scaling for a".to_string()),
                Just(" !      !     x".to_string()),
                Just("=====> Application deployed:".to_string()),
                Just("NAME  VERSION  STATUS  EXPOSED PORTS  LINKS".to_string()),
                "[ -~\u{1b}\r]{0,40}",
                "[A-Z_]{1,5}: {0,3}[ -~]{0,10}",
                "       [A-Za-z ]{1,12}: {0,30}[ -~]{0,20}",
                "\u{1b}\\[3[0-9]m[0-9T:.Z-]{0,30} app\\[[a-z.0-9]{0,6}\\]:\u{1b}\\[0m [ -~]{0,10}",
            ],
            0..12,
        ),
        exit in prop::sample::select(vec![0, 1]),
    ) {
        let text = lines.join("\n");
        let argv = parse::shell_split(cmd);
        let _ = parse::parse_case(&argv, text.as_bytes(), text.as_bytes(), exit);
    }

    #[test]
    fn every_public_parser_accepts_any_text(bytes in prop::collection::vec(any::<u8>(), 0..400), flag in any::<bool>()) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let t = text.as_str();
        let _ = parse::parse_report_text(t, Some("app"));
        let _ = parse::parse_report_json(t, if flag { parse::report::JsonReports::Many } else { parse::report::JsonReports::One });
        let _ = parse::report::report_maps(t, parse::report::ReportFormat::when(flag), "ps", None);
        let _ = parse::parse_config_show(t);
        for f in ["exports", "envfile", "shell", "json", "json-list", "pretty", "docker-args", "pack-keys"] {
            let _ = parse::parse_config_export(t, Some(f));
        }
        let _ = parse::parse_config_get(t, 0, if flag { parse::config::ValueQuoting::Quoted } else { parse::config::ValueQuoting::Plain });
        let _ = parse::parse_config_set(t);
        let _ = parse::parse_config_unset(t);
        let _ = parse::parse_apps_list(t);
        let _ = parse::parse_version(t);
        let _ = parse::parse_ps_scale(t);
        let _ = parse::parse_logs(t);
        let _ = parse::parse_ls(t);
        let _ = parse::parse_remote_show(t);
        let _ = parse::parse_plugin_list(t);
        let _ = parse::parse_ssh_keys_list(t);
        let _ = parse::parse_storage_list(t);
        let _ = parse::parse_steps(t);
        let _ = parse::parse_deployed_urls(t);
        let _ = parse::parse_postgres_info(t);
        let _ = parse::parse_postgres_list(t);
        let _ = parse::parse_exposed_ports(t);
        let _ = parse::parse_backup_schedule(t);
        let _ = parse::shell_split(t);
        let _ = parse::failure_message(t, &bytes);
        let _ = dokku_client::ps::process_status(t, t);
        let _ = dokku_client::PostgresInfo::from_fields(None, &parse::parse_postgres_info(t));
        let _ = dokku_client::postgres::Dsn::new(t).to_string();
    }
}
