//! The report as people read it: one table of operations, then the baselines, the ratios and the
//! thresholds.

use std::fmt::Write;

use super::report::{OperationReport, Report, is_breakdown, per_1000};

/// The report as text.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} | git {} | {} cores | {} | {}",
        report.scenario, report.git, report.cores, report.target, report.server
    );
    if let Some(load) = &report.load {
        let stages: Vec<String> = load
            .stages
            .iter()
            .map(|(s, t)| format!("{s:.0}s:{t:.0}"))
            .collect();
        let model = match (load.think_ms, load.max_in_flight) {
            (Some(think), _) => format!("closed, think {think:.0} ms"),
            (_, Some(max)) => format!("open, at most {max} in flight"),
            _ => load.model.to_owned(),
        };
        let _ = writeln!(out, "load: {model}; stages {}", stages.join(","));
    }
    for phase in &report.phases {
        let _ = write!(
            out,
            "phase {}: {:.1} s, hold {:.0}-{:.0} s",
            phase.name, phase.elapsed_s, phase.steady_window_s.0, phase.steady_window_s.1
        );
        if phase.started + phase.dropped > 0 {
            let _ = write!(
                out,
                ", {} arrivals started, {} dropped",
                phase.started, phase.dropped
            );
        }
        out.push('\n');
    }
    operations(&mut out, report);
    baselines(&mut out, report);
    if let Some(cpu) = &report.cpu {
        let _ = write!(
            out,
            "CPU over the load (share of all cores): machine {:.0}%, harness {:.0}%",
            cpu.machine * 100.0,
            cpu.harness * 100.0
        );
        if let Some(server) = cpu.server {
            let rest = (cpu.machine - cpu.harness - server).max(0.0);
            let _ = write!(
                out,
                ", server {:.0}%, the rest (PostgreSQL, other processes) {:.0}%",
                server * 100.0,
                rest * 100.0
            );
        }
        out.push('\n');
        // Shares are rounded to whole percents and move with the rate; the time per request
        // (every request of the phases, as their CPU is counted over the phases) compares
        // builds at different rates.
        let requests: u64 = report
            .operations
            .iter()
            .filter(|(name, _)| !is_breakdown(name))
            .map(|(_, op)| op.requests)
            .sum();
        if requests > 0 {
            let _ = write!(
                out,
                "CPU per 1,000 requests, in clock ticks: harness {:.2}",
                per_1000(cpu.harness_ticks, requests)
            );
            if let Some(server) = cpu.server_ticks {
                let _ = write!(out, ", server {:.2}", per_1000(server, requests));
            }
            out.push('\n');
        }
    }
    if let Some(balanced) = report.reconciliation_balanced {
        let verdict = if balanced { "balanced" } else { "NOT BALANCED" };
        let _ = writeln!(out, "reconciliation after the load: {verdict}");
    }
    for verdict in &report.thresholds {
        let actual = verdict
            .actual
            .map_or("no such figure".to_owned(), |a| format!("{a:.4}"));
        let mark = if verdict.passed { "ok  " } else { "FAIL" };
        let _ = writeln!(
            out,
            "threshold {mark} {} (actual {actual})",
            verdict.expression
        );
    }
    out
}

fn operations(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "\n{:<24} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>9}",
        "operation (ms)",
        "count",
        "rate/s",
        "hold/s",
        "p50",
        "p90",
        "p95",
        "p99",
        "p99.9",
        "max",
        "4xx",
        "5xx",
        "transport"
    );
    for (name, op) in &report.operations {
        let l = &op.latency_ms;
        let _ = writeln!(
            out,
            "{:<24} {:>9} {:>9.0} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6} {:>6} {:>9}",
            name,
            op.requests,
            op.rate,
            op.steady_rate,
            l.p50,
            l.p90,
            l.p95,
            l.p99,
            l.p99_9,
            l.max,
            op.errors.client,
            op.errors.server,
            op.errors.transport
        );
    }
    for (name, op) in &report.operations {
        if op.items != op.ok {
            let _ = writeln!(
                out,
                "{name}: {} units of work, {:.0}/s over the hold",
                op.items, op.steady_item_rate
            );
        }
        let open = report.load.as_ref().is_some_and(|l| l.model == "open");
        if open && op.ok > 0 {
            let _ = writeln!(
                out,
                "{name}: from the send (without waiting for a worker or a late timer): p50 {:.2} p99 {:.2} max {:.2} ms",
                op.service_ms.p50, op.service_ms.p99, op.service_ms.max
            );
        }
        codes(out, name, op);
    }
}

fn codes(out: &mut String, name: &str, op: &OperationReport) {
    if op.errors.codes.is_empty() {
        return;
    }
    let mut codes: Vec<(&String, &u64)> = op.errors.codes.iter().collect();
    codes.sort_by(|a, b| b.1.cmp(a.1));
    let listed: Vec<String> = codes
        .iter()
        .take(5)
        .map(|(code, n)| format!("{code} x{n}"))
        .collect();
    let _ = writeln!(out, "{name} errors: {}", listed.join(", "));
}

fn baselines(out: &mut String, report: &Report) {
    if let Some(baseline) = &report.baseline {
        let brackets: Vec<String> = baseline
            .brackets
            .iter()
            .map(|b| format!("{:.0}", b.p_tps))
            .collect();
        let _ = write!(
            out,
            "\nbaseline P = {:.0} tps (brackets {}, spread {:.0}%), L_P = {:.2} ms, L_1 = {:.2} ms",
            baseline.p_tps,
            brackets.join(" / "),
            baseline.spread * 100.0,
            baseline.l_p_ms,
            baseline.l_1_ms
        );
        if let Some(s) = baseline.s_tps {
            let _ = write!(out, ", S = {s:.0} tps");
        }
        out.push('\n');
        if baseline.is_noisy() {
            let _ = writeln!(
                out,
                "the brackets disagree by more than 15%: by the protocol this run is noise, run it again"
            );
        }
    }
    if let Some(wrk) = &report.wrk {
        let runs: Vec<String> = wrk.runs.iter().map(|r| format!("{r:.0}")).collect();
        let _ = writeln!(
            out,
            "wrk H = {:.0} req/s (runs {}): {}",
            wrk.requests_per_s,
            runs.join(" / "),
            wrk.command
        );
        let _ = writeln!(
            out,
            "CPU per 1,000 requests (clock ticks): wrk {:.2}, harness {:.2}",
            wrk.cpu_ticks_per_1000, wrk.harness_cpu_ticks_per_1000
        );
    }
    if !report.ratios.is_empty() {
        let _ = writeln!(out, "ratios:");
        for (name, value) in &report.ratios {
            let _ = writeln!(out, "  {name:<36} {value:>8.2}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::report::{CpuReport, Errors, Latency};

    fn operation(requests: u64) -> OperationReport {
        OperationReport {
            phase: "search".to_owned(),
            requests,
            ok: requests,
            items: requests,
            rate: 0.0,
            steady_rate: 0.0,
            steady_item_rate: 0.0,
            latency_ms: Latency::default(),
            service_ms: Latency::default(),
            errors: Errors::default(),
            per_second: Vec::new(),
        }
    }

    #[test]
    fn cpu_per_request_counts_each_request_once() {
        let mut report = Report::default();
        report
            .operations
            .insert("search".to_owned(), operation(2_000));
        // A breakdown of `search`: its requests are already in `search`'s count.
        report
            .operations
            .insert("search/geo".to_owned(), operation(500));
        report.cpu = Some(CpuReport {
            machine: 0.9,
            harness: 0.3,
            server: Some(0.2),
            harness_ticks: 10,
            server_ticks: Some(4),
        });
        let text = render(&report);
        assert!(
            text.contains("CPU per 1,000 requests, in clock ticks: harness 5.00, server 2.00\n"),
            "{text}"
        );
    }
}
