//! `healthplug demo`.

use std::path::Path;

use super::CliResult;
use super::data::print_accesses;
use super::output::{indent, pretty, print_json};
use crate::demo::{self, DemoReport};
use crate::platform::Host;

fn print_report(report: &DemoReport, temporary: bool) {
    println!(
        "healthplug demo  (home {}{})",
        report.home,
        if temporary {
            ", deleted on exit; pass --home DIR to keep it"
        } else {
            ""
        }
    );
    let total: u64 = report.samples.iter().map(|(_, n)| n).sum();
    let parts: Vec<String> = report.samples.iter().map(|(t, n)| format!("{t} {n}")).collect();
    println!(
        "user `{}`: 90 days of synthetic data, {total} samples ({}) stored encrypted in {:.0} ms",
        demo::DEMO_USER,
        parts.join(", "),
        report.data_ms
    );
    for p in &report.plugins {
        let o = &p.invocation;
        println!();
        println!(
            "== {} {} [dev]: {} KB component, compiled in {:.0} ms",
            p.plugin,
            o.version,
            p.component_bytes / 1024,
            p.load_ms
        );
        println!("  granted by the user: {}", p.granted.join(", "));
        println!(
            "  asked for, not granted: {}",
            if p.not_granted.is_empty() {
                "-".to_string()
            } else {
                p.not_granted.join(", ")
            }
        );
        println!(
            "  invoke {}  ({:.1} ms, {} host calls)",
            o.tool, o.elapsed_ms, o.host_calls
        );
        print_accesses(o);
        match &o.result {
            Ok(text) => {
                println!("  result:");
                println!("{}", indent(&pretty(text), 4));
            }
            Err(f) => println!("  tool failed ({}): {}", f.kind, f.message),
        }
    }
    println!();
    println!("The `csv` connector is installed too, to seed this home with your own test data:");
    println!("  healthplug --home {0} consent grant demo csv --all", report.home);
    println!(
        "  healthplug --home {0} import demo csv week.csv   (columns: type,start,end,value,unit,code)",
        report.home
    );
    println!(
        "  healthplug --home {0} records add demo --type resting-heart-rate --value 52 --at now",
        report.home
    );
    println!();
    println!("done in {:.0} ms", report.total_ms);
}

pub(super) fn run(home: Option<&Path>, json: bool) -> CliResult {
    let temp;
    let (dir, temporary) = match home {
        Some(h) => (h.to_path_buf(), false),
        None => {
            temp = tempfile::Builder::new()
                .prefix("healthplug-demo-")
                .tempdir()
                .map_err(anyhow::Error::from)?;
            (temp.path().to_path_buf(), true)
        }
    };
    let host = Host::open(&dir)?;
    let report = demo::run(&host, &dir)?;
    if json {
        print_json(&report)?;
    } else {
        print_report(&report, temporary);
    }
    Ok(())
}
