//! `job.html`: the job of many ranks on one page: the straggler and its
//! cause, a lane chart of one step (one lane per rank, on the common
//! clock), the per-rank table and the step times. Self-contained like
//! `report.html`; every name from a trace is escaped.

use std::fmt::Write;

use super::html::card;
use crate::analysis::job::{JobReport, Lanes};
use crate::model::Ns;
use crate::text::escape::{html as h, truncate};
use crate::text::format::ns;

const COMPUTE: &str = "#4c78a8";
const WAIT: &str = "#e45756";
const TRANSFER: &str = "#54a24b";
const IDLE: &str = "#e8e8e8";

/// The full page.
pub fn render(j: &JobReport) -> Vec<u8> {
    let mut s = String::with_capacity(32 * 1024);
    let title = format!("job of {} ranks", j.ranks.len());
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <title>trace-report: {}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n",
        h(&title),
        super::html::CSS
    );
    let _ = writeln!(s, "<h1>{}</h1>", h(&title));
    let steps = match &j.step_name {
        Some(n) => format!("{} '{}' steps compared (the k-th step of every rank)", j.steps, n),
        None => format!(
            "{} step(s): no iteration ranges, each rank's span of GPU work",
            j.steps
        ),
    };
    let _ = writeln!(
        s,
        "<div class=\"sub\">{} · clock: {}</div>",
        h(&steps),
        h(&j.clock.method)
    );
    cards(&mut s, j);
    if !j.warnings.is_empty() {
        s.push_str("<ul class=\"warnings\">\n");
        for w in &j.warnings {
            let _ = writeln!(s, "<li>{}</li>", h(w));
        }
        s.push_str("</ul>\n");
    }
    if let Some(l) = &j.lanes {
        lanes(&mut s, j, l);
    }
    table(&mut s, j);
    steps_table(&mut s, j);
    s.push_str("</main>\n</body>\n</html>\n");
    s.into_bytes()
}

fn cards(s: &mut String, j: &JobReport) {
    s.push_str("<div class=\"cards\">\n");
    if let Some(t) = &j.step_time {
        card(
            s,
            "step time (slowest rank, p50)",
            &ns(t.p50_ns),
            &format!(
                "mean {} · max {} · {} steps",
                ns(t.mean_ns),
                ns(t.max_ns),
                t.count
            ),
        );
    }
    match (&j.straggler, &j.no_straggler) {
        (Some(st), _) => {
            card(
                s,
                "straggler",
                &truncate(&st.label, 40),
                &format!(
                    "{} per step · {}",
                    ns(st.late_ns),
                    super::job_text::consistency(j, st)
                ),
            );
            card(s, "cause", cause_word(&st.cause), &st.summary);
        }
        (None, Some(why)) => card(s, "straggler", "none", why),
        (None, None) => {}
    }
    let wait: Ns = j.ranks.iter().map(|r| r.wait_ns).sum();
    let transfer: Ns = j.ranks.iter().map(|r| r.transfer_ns).sum();
    if wait + transfer > 0 {
        card(
            s,
            "collectives: waiting",
            &format!("{:.0}%", 100.0 * wait as f64 / (wait + transfer) as f64),
            &format!(
                "{} waiting, {} transfer per step, all ranks ({} matched collectives)",
                ns(wait),
                ns(transfer),
                j.clock.matched
            ),
        );
    }
    s.push_str("</div>\n");
}

fn cause_word(c: &crate::analysis::job::Cause) -> &'static str {
    use crate::analysis::job::Cause::*;
    match c {
        Host => "host time",
        Kernel { .. } => "a longer kernel",
        Waiting => "waiting in a collective",
        Transfer => "slower transfers",
        Unknown => "unknown",
    }
}

/// One lane per rank across one step: compute, collective waiting and
/// transfer, GPU idle as the background.
fn lanes(s: &mut String, j: &JobReport, l: &Lanes) {
    const W: f64 = 1000.0;
    const LABEL: f64 = 230.0;
    const LANE: f64 = 26.0;
    let span = (l.end - l.start).max(1) as f64;
    let x = |t: Ns| LABEL + (t - l.start) as f64 / span * (W - LABEL - 10.0);
    let height = 30.0 + LANE * l.ranks.len() as f64 + 24.0;
    let _ = writeln!(
        s,
        "<h2>One step, every rank</h2>\n<p class=\"sub\">Step {} (the median step time), {} on the common clock. \
         Red: a collective kernel waiting for the last rank to arrive; green: its transfer.</p>",
        l.step + 1,
        ns(l.end - l.start)
    );
    let _ = write!(
        s,
        "<div class=\"legend\"><span><i class=\"sw\" style=\"background:{COMPUTE}\"></i>compute</span>\
         <span><i class=\"sw\" style=\"background:{WAIT}\"></i>collective: waiting</span>\
         <span><i class=\"sw\" style=\"background:{TRANSFER}\"></i>collective: transfer</span>\
         <span><i class=\"sw\" style=\"background:{IDLE}\"></i>GPU idle (host)</span></div>\n"
    );
    let _ = writeln!(
        s,
        "<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {height}\" width=\"{W}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    for (i, lane) in l.ranks.iter().enumerate() {
        let y = 20.0 + LANE * i as f64;
        let label = j.ranks.get(i).map(|r| r.label.as_str()).unwrap_or("");
        let straggler = j.straggler.as_ref().is_some_and(|st| st.rank == i);
        let _ = writeln!(
            s,
            "<text x=\"4\" y=\"{:.1}\"{}>{}</text>",
            y + 15.0,
            if straggler { " font-weight=\"bold\"" } else { "" },
            h(&truncate(label, 34))
        );
        rect(s, x(lane.start), y, x(lane.end) - x(lane.start), IDLE);
        for &(a, b) in &lane.compute {
            rect(s, x(a), y + 2.0, x(b) - x(a), COMPUTE);
        }
        for &(a, arrive, b) in &lane.comm {
            rect(s, x(a), y + 6.0, x(arrive) - x(a), WAIT);
            rect(s, x(arrive), y + 6.0, x(b) - x(arrive), TRANSFER);
        }
    }
    let axis = 20.0 + LANE * l.ranks.len() as f64 + 14.0;
    let _ = writeln!(
        s,
        "<text x=\"{LABEL}\" y=\"{axis}\" fill=\"#666\">0</text><text x=\"{}\" y=\"{axis}\" text-anchor=\"end\" fill=\"#666\">{}</text>",
        W - 10.0,
        h(&ns(l.end - l.start))
    );
    s.push_str("</svg></div>\n");
}

fn rect(s: &mut String, x: f64, y: f64, w: f64, fill: &str) {
    if w <= 0.0 {
        return;
    }
    let h = if fill == IDLE {
        22.0
    } else if fill == COMPUTE {
        18.0
    } else {
        10.0
    };
    let _ = writeln!(
        s,
        "<rect x=\"{x:.2}\" y=\"{y:.1}\" width=\"{:.2}\" height=\"{h}\" fill=\"{fill}\"/>",
        w.max(0.3)
    );
}

fn table(s: &mut String, j: &JobReport) {
    s.push_str("<h2>Ranks</h2>\n<p class=\"sub\">Per step, means over the compared steps. Waiting and transfer split the matched collectives' kernel time at the last rank's arrival; late: how much later than the first rank this one reaches them.</p>\n");
    s.push_str("<table><tr><th>rank</th><th>file</th><th class=\"n\">step</th><th class=\"n\">compute</th><th class=\"n\">GPU idle</th><th class=\"n\">comm</th><th class=\"n\">waiting</th><th class=\"n\">transfer</th><th class=\"n\">late</th></tr>\n");
    for r in &j.ranks {
        let file = r.id.file.rsplit(['/', '\\']).next().unwrap_or(&r.id.file);
        let times: Vec<String> = super::job_text::rank_times(r)
            .iter()
            .map(|t| format!("<td class=\"n\">{t}</td>"))
            .collect();
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"name\">{}</td>{}</tr>",
            h(&r.label),
            h(file),
            times.concat()
        );
    }
    s.push_str("</table>\n");
    if let Some(st) = &j.straggler {
        let e = &st.excess;
        let _ = writeln!(
            s,
            "<p>{} against the other ranks' median, per step: GPU idle {}, compute {}, waiting {}, transfer {}{}.</p>",
            h(&st.label),
            signed(e.idle_ns),
            signed(e.compute_ns),
            signed(e.wait_ns),
            signed(e.transfer_ns),
            e.kernel
                .as_ref()
                .map(|(k, t)| format!(
                    "; the kernel most above the others: <code>{}</code> {}",
                    h(&truncate(k, 80)),
                    signed(*t)
                ))
                .unwrap_or_default()
        );
    }
}

fn signed(v: Ns) -> String {
    if v >= 0 { format!("+{}", ns(v)) } else { ns(v) }
}

fn steps_table(s: &mut String, j: &JobReport) {
    if j.step_rows.is_empty() {
        return;
    }
    s.push_str("<h2>Steps</h2>\n<table><tr><th class=\"n\">step</th><th class=\"n\">step time</th>");
    for r in &j.ranks {
        let _ = write!(s, "<th class=\"n\">{}</th>", h(&truncate(&r.label, 24)));
    }
    s.push_str("<th>slowest</th><th>last to the collectives</th></tr>\n");
    for row in j.step_rows.iter().take(200) {
        let _ = write!(
            s,
            "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            row.index + 1,
            ns(row.step_ns)
        );
        for d in &row.rank_ns {
            let _ = write!(s, "<td class=\"n\">{}</td>", ns(*d));
        }
        let name = |i: usize| {
            j.ranks
                .get(i)
                .map(|r| h(&truncate(&r.label, 30)))
                .unwrap_or_default()
        };
        let _ = writeln!(
            s,
            "<td>{}</td><td>{}</td></tr>",
            name(row.slowest),
            row.latest.map(name).unwrap_or_else(|| "—".into())
        );
    }
    s.push_str("</table>\n");
}
