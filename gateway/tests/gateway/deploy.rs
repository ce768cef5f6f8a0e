//! The deployment files in `deploy/` against the gateway they deploy: the
//! systemd unit starts the gateway with flags it takes. (`deploy/nginx.conf`
//! is run as it is by the end-to-end test `load-balancer.spec.ts`.)

use booking_gateway::GatewayArgs;
use clap::Parser;

/// The gateway's command line, as `booking-gateway` parses it.
#[derive(Debug, Parser)]
struct CommandLine {
    #[command(flatten)]
    args: GatewayArgs,
}

#[test]
fn the_systemd_unit_starts_the_gateway_with_flags_it_takes() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/booking-gateway.service"
    ))
    .expect("deploy/booking-gateway.service is readable");
    let exec: Vec<&str> = unit
        .lines()
        .find_map(|line| line.strip_prefix("ExecStart="))
        .expect("the unit has an ExecStart line")
        .split_whitespace()
        .collect();
    assert!(
        exec[0].ends_with("/booking-gateway"),
        "it starts the gateway: {exec:?}"
    );
    let parsed = CommandLine::try_parse_from(&exec).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        parsed.args.log_format,
        Some(booking_http::LogFormat::Json),
        "its logs are JSON lines for the journal's collector"
    );
    assert!(parsed.args.config.is_some(), "it reads its settings file");
    for setting in [
        "User=booking-gateway",
        "EnvironmentFile=",
        "NoNewPrivileges=yes",
    ] {
        assert!(unit.contains(setting), "the unit sets {setting}");
    }
}
