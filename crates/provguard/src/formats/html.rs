//! The scan report as one self-contained HTML page: no script, no network, charts drawn as
//! inline SVG on the server side, so it opens the same from a CI artifact, a mail or a disk.
//!
//! Three charts:
//!
//! - **Composition**: the admitted records by origin (one stacked bar) and by registered
//!   source (one bar each, its share of the batch).
//! - **Cross-influence**: the models of the ecosystem the batch was judged in, on a circle,
//!   with an arrow `from -> model` for every input, as wide as its share; red where curating
//!   that input backfires or hurts some model, green where it helps the model it feeds.
//! - **Curation curves**: for every curated-able input of every model (up to
//!   [`MAX_CURVES`]), the model's alignment reward `J` as the input's curation ratio `c` runs
//!   from 0 to 1, re-analysed at [`CURVE_POINTS`] points. The point where curation turns from
//!   help to harm (the reward's maximum inside the range) is marked; a curve that only rises
//!   says curation helps throughout.

use std::fmt::Write as _;

use provguard_dynamics::{AnalyzeOptions, Ecosystem, Effect, analyze};

use crate::Report;

/// Curves drawn at most.
pub const MAX_CURVES: usize = 8;
/// Points along each curve.
pub const CURVE_POINTS: usize = 21;
/// Models drawn in the influence graph at most.
pub const MAX_NODES: usize = 12;
/// Models beyond which no curve is swept (each point re-analyses the whole ecosystem).
pub const MAX_SWEPT_MODELS: usize = 24;

const WIDTH: f64 = 640.0;

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "undefined".to_owned(), |s| format!("{:.1}%", s * 100.0))
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "undefined".to_owned(), |v| format!("{v:.4}"))
}

/// Colours by origin, and for the curves.
const ORIGIN_COLOURS: [(&str, &str); 4] = [
    ("human", "#2e7d32"),
    ("synthetic", "#c62828"),
    ("unknown", "#9e9e9e"),
    ("ambiguous", "#f9a825"),
];
const PALETTE: [&str; 8] = [
    "#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#ad1457",
];

/// The whole page.
#[must_use]
pub fn render(report: &Report) -> String {
    let verdict = report.verdict.as_str();
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>provguard: {verdict} for {home}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>provguard scan of <code>{home}</code>: <span class=\"verdict {verdict}\">{verdict}\
         </span></h1>\n",
        home = esc(&report.home),
    );
    let a = &report.accounting;
    let _ = writeln!(
        page,
        "<p class=\"summary\">{} records read: {} admitted, {} rejected ({} quarantined), {} \
         blank lines skipped, in {} files. Content id <code>{}</code>. {}.</p>",
        a.records_read,
        a.admitted,
        a.rejected,
        a.quarantined,
        a.blank_lines,
        report.inputs.files.len(),
        esc(&report.content_id),
        esc(&report.tool),
    );
    reasons(&mut page, report);
    composition(&mut page, report);
    dynamics(&mut page, report);
    errors(&mut page, report);
    page.push_str("</body>\n</html>\n");
    page
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;\
color:#212121}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid \
#ddd}.verdict{padding:.1em .5em;border-radius:.3em;color:#fff}.pass{background:#2e7d32}\
.flag{background:#ef6c00}.block{background:#c62828}table{border-collapse:collapse}\
td,th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left}svg{display:block;\
margin:.5em 0}.curves{display:flex;flex-wrap:wrap;gap:1em}.curves svg{margin:0}.note{color:#616161;font-size:.9em}code{font-size:.95em}";

fn reasons(page: &mut String, report: &Report) {
    page.push_str("<h2>Why</h2>\n");
    if report.reasons.is_empty() {
        page.push_str("<p>No limit of the policy is crossed.</p>\n");
        return;
    }
    page.push_str("<table>\n<tr><th>level</th><th>limit</th><th>measured</th><th>threshold</th><th>reason</th></tr>\n");
    for r in &report.reasons {
        let _ = writeln!(
            page,
            "<tr><td><span class=\"verdict {level}\">{level}</span></td><td><code>{}</code></td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.limit),
            number(r.measured),
            r.threshold,
            esc(&r.message),
            level = r.level.as_str(),
        );
    }
    page.push_str("</table>\n");
}

fn composition(page: &mut String, report: &Report) {
    page.push_str("<h2>Composition</h2>\n");
    let c = &report.composition;
    let total = report.records.max(1) as f64;

    // One stacked bar of the origins.
    let mut svg = format!(
        "<svg id=\"composition-origin\" role=\"img\" aria-label=\"records by origin\" \
         width=\"{WIDTH}\" height=\"70\" viewBox=\"0 0 {WIDTH} 70\">"
    );
    let mut x = 0.0;
    for (origin, colour) in ORIGIN_COLOURS {
        let records = c.by_origin.get(origin).map_or(0, |o| o.records);
        let w = WIDTH * records as f64 / total;
        if w > 0.0 {
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"30\" fill=\"{colour}\">\
                 <title>{origin}: {records} records</title></rect>"
            );
        }
        x += w;
    }
    let mut lx = 0.0;
    for (origin, colour) in ORIGIN_COLOURS {
        let records = c.by_origin.get(origin).map_or(0, |o| o.records);
        let _ = write!(
            svg,
            "<rect x=\"{lx}\" y=\"45\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"56\" font-size=\"13\">{origin} {}</text>",
            lx + 16.0,
            percent((report.records > 0).then(|| records as f64 / total)),
        );
        lx += 160.0;
    }
    svg.push_str("</svg>\n");
    page.push_str(&svg);

    // One bar per source.
    let sources: Vec<(&String, f64, &str)> = c
        .by_source
        .iter()
        .map(|(name, s)| (name, s.share.unwrap_or(0.0), s.origin))
        .collect();
    if sources.is_empty() {
        page.push_str("<p class=\"note\">No admitted record matches a registered source.</p>\n");
        return;
    }
    let row = 24.0;
    let label = 180.0;
    let height = row * sources.len() as f64 + 10.0;
    let _ = write!(
        page,
        "<svg id=\"composition-source\" role=\"img\" aria-label=\"share of the batch by source\" \
         width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">"
    );
    for (i, (name, share, origin)) in sources.iter().enumerate() {
        let y = row * i as f64 + 4.0;
        let colour = ORIGIN_COLOURS
            .iter()
            .find(|(o, _)| o == origin)
            .map_or("#607d8b", |(_, c)| c);
        let w = (WIDTH - label - 70.0) * share;
        let _ = write!(
            page,
            "<text x=\"0\" y=\"{ty}\" font-size=\"13\">{name}</text>\
             <rect x=\"{label}\" y=\"{y}\" width=\"{w:.1}\" height=\"16\" fill=\"{colour}\">\
             <title>{name} ({origin}): {p}</title></rect>\
             <text x=\"{tx:.1}\" y=\"{ty}\" font-size=\"12\">{p}</text>",
            ty = y + 13.0,
            tx = label + w + 6.0,
            name = esc(name),
            p = percent(Some(*share)),
        );
    }
    page.push_str("</svg>\n");
}

fn dynamics(page: &mut String, report: &Report) {
    let d = &report.dynamics;
    page.push_str("<h2>Dynamics</h2>\n");
    let _ = writeln!(
        page,
        "<p>Regime <b>{}</b>; spectral radius of the round map {}, of the lineage {}; \
         cross-influence share {}; synthetic depth {}; diversity retention {}.</p>",
        esc(d.regime.as_deref().unwrap_or("undefined")),
        number(d.spectral_radius),
        number(d.lineage_spectral_radius),
        percent(d.cross_influence_share),
        number(d.synthetic_depth),
        number(d.diversity_retention),
    );
    let Some(eco) = &d.ecosystem else {
        page.push_str(
            "<p class=\"note\">No ecosystem was modelled for this batch (nothing admitted).</p>\n",
        );
        return;
    };
    influence_graph(page, eco, report);
    curves(page, eco);
}

/// The models the influence graph draws, and how many there are in all: every model when
/// they are few; else the home model, the models the ecosystem file declares and the home
/// model's largest inputs, up to [`MAX_NODES`].
fn graph_nodes<'e>(eco: &'e Ecosystem, report: &'e Report) -> (Vec<&'e str>, usize) {
    let mut names: Vec<&str> = eco.models.iter().map(|m| m.name.as_str()).collect();
    for m in &eco.models {
        for input in &m.inputs {
            if !names.contains(&input.from.as_str()) {
                names.push(&input.from);
            }
        }
    }
    let total = names.len();
    if total > MAX_NODES {
        let mut keep: Vec<&str> = vec![report.home.as_str()];
        let mut inputs: Vec<(&str, f64)> = eco
            .models
            .iter()
            .filter(|m| m.name == report.home)
            .flat_map(|m| m.inputs.iter().map(|i| (i.from.as_str(), i.share)))
            .collect();
        inputs.sort_by(|a, b| b.1.total_cmp(&a.1));
        for name in eco
            .models
            .iter()
            .map(|m| m.name.as_str())
            .filter(|n| !report.dynamics.model_shares.contains_key(*n))
            .chain(inputs.into_iter().map(|(n, _)| n))
        {
            if keep.len() == MAX_NODES {
                break;
            }
            if !keep.contains(&name) {
                keep.push(name);
            }
        }
        names = keep;
    }
    (names, total)
}

/// The models on a circle, an arrow per input.
fn influence_graph(page: &mut String, eco: &Ecosystem, report: &Report) {
    let (names, total) = graph_nodes(eco, report);
    let (cx, cy, radius) = (WIDTH / 2.0, 190.0, 140.0);
    let at = |i: usize| {
        let angle =
            std::f64::consts::TAU * i as f64 / names.len() as f64 - std::f64::consts::FRAC_PI_2;
        (cx + radius * angle.cos(), cy + radius * angle.sin())
    };
    let _ = write!(
        page,
        "<h3>Cross-influence between models</h3>\n<svg id=\"influence-graph\" role=\"img\" \
         aria-label=\"which model trains on which\" width=\"{WIDTH}\" height=\"390\" \
         viewBox=\"0 0 {WIDTH} 390\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" \
         refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"12\" markerHeight=\"12\" \
         orient=\"auto-start-reverse\">\
         <path d=\"M0 0L10 5L0 10z\" fill=\"#424242\"/></marker></defs>"
    );
    for model in &eco.models {
        let Some(to) = names.iter().position(|n| *n == model.name) else {
            continue;
        };
        for input in &model.inputs {
            let Some(from) = names.iter().position(|n| *n == input.from) else {
                continue;
            };
            let harmful = report.dynamics.influence.iter().any(|i| {
                i.model == model.name
                    && i.from == input.from
                    && matches!(i.effect, Some(Effect::Backfires | Effect::Hurts))
            });
            let colour = if harmful { "#c62828" } else { "#546e7a" };
            let width = 1.0 + 8.0 * input.share;
            let title = format!(
                "{} trains on {}: share {}, curated {}{}",
                model.name,
                input.from,
                percent(Some(input.share)),
                percent(Some(input.curated)),
                if harmful {
                    "; curating it backfires or hurts"
                } else {
                    ""
                }
            );
            if from == to {
                let (x, y) = at(to);
                let _ = write!(
                    page,
                    "<circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"22\" fill=\"none\" stroke=\"{colour}\" \
                     stroke-width=\"{width:.1}\"><title>{}</title></circle>",
                    y - 30.0,
                    esc(&title)
                );
                continue;
            }
            let ((x1, y1), (x2, y2)) = (at(from), at(to));
            // Stop short of the node circles.
            let (dx, dy) = (x2 - x1, y2 - y1);
            let len = dx.hypot(dy).max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            // Each arrow keeps to its right, so that two models feeding each other show two.
            let (x1, y1, x2, y2) = (x1 - uy * 6.0, y1 + ux * 6.0, x2 - uy * 6.0, y2 + ux * 6.0);
            let _ = write!(
                page,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" \
                 stroke-width=\"{width:.1}\" marker-end=\"url(#arrow)\"><title>{}</title></line>",
                x1 + ux * 30.0,
                y1 + uy * 30.0,
                x2 - ux * 34.0,
                y2 - uy * 34.0,
                esc(&title)
            );
        }
    }
    for (i, name) in names.iter().enumerate() {
        let (x, y) = at(i);
        let home = *name == report.home;
        let _ = write!(
            page,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"28\" fill=\"{}\" stroke=\"#263238\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
            if home { "#bbdefb" } else { "#eceff1" },
            y + 4.0,
            esc(name)
        );
    }
    page.push_str("</svg>\n");
    if total > names.len() {
        let _ = writeln!(
            page,
            "<p class=\"note\">{} of {total} models shown: the home model, the models of the \
             ecosystem file and the home model's largest inputs.</p>",
            names.len()
        );
    }
    page.push_str("<p class=\"note\">Arrows point from the model whose outputs are trained on to the model that trains on them, as wide as their share; red where curating them backfires or hurts.</p>\n");
}

/// One curve: `J_model` against `c_model,from`.
struct Curve {
    model: String,
    from: String,
    points: Vec<(f64, f64)>,
    /// Where curation turns from help to harm: the curve's maximum inside `(0, 1)`.
    turn: Option<(f64, f64)>,
}

/// Re-analyses the ecosystem along `c` for every input (up to [`MAX_CURVES`]).
fn sweep_curves(eco: &Ecosystem) -> Vec<Curve> {
    let opts = AnalyzeOptions::default();
    let mut curves = Vec::new();
    for (k, model) in eco.models.iter().enumerate() {
        for (j, input) in model.inputs.iter().enumerate() {
            if curves.len() == MAX_CURVES {
                return curves;
            }
            let mut points = Vec::with_capacity(CURVE_POINTS);
            for step in 0..CURVE_POINTS {
                let c = step as f64 / (CURVE_POINTS - 1) as f64;
                let mut varied = eco.clone();
                varied.models[k].inputs[j].curated = c;
                let reward = analyze(&varied, &opts)
                    .ok()
                    .and_then(|a| a.models.iter().find(|m| m.name == model.name)?.reward);
                if let Some(reward) = reward.filter(|r| r.is_finite()) {
                    points.push((c, reward));
                }
            }
            if points.len() < 2 {
                continue;
            }
            let best = points
                .iter()
                .copied()
                .fold(
                    (f64::NAN, f64::NEG_INFINITY),
                    |b, p| if p.1 > b.1 { p } else { b },
                );
            let (first, last) = (points[0].0, points[points.len() - 1].0);
            let spread = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max)
                - points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let turn = (best.0 > first && best.0 < last && spread > 1e-12).then_some(best);
            curves.push(Curve {
                model: model.name.clone(),
                from: input.from.clone(),
                points,
                turn,
            });
        }
    }
    curves
}

fn curves(page: &mut String, eco: &Ecosystem) {
    page.push_str("<h3>Alignment against curation</h3>\n");
    let models = eco.models.len()
        + eco
            .models
            .iter()
            .flat_map(|m| &m.inputs)
            .filter(|i| !eco.models.iter().any(|m| m.name == i.from))
            .count();
    if models > MAX_SWEPT_MODELS {
        let _ = writeln!(
            page,
            "<p class=\"note\">The ecosystem has {models} models, more than the {MAX_SWEPT_MODELS} \
             this report sweeps; `provguard simulate --ecosystem FILE --sweep \
             models.NAME.inputs.FROM.curated=0:1:21` draws any curve.</p>"
        );
        return;
    }
    let curves = sweep_curves(eco);
    if curves.is_empty() {
        page.push_str("<p class=\"note\">No model trains on another model's outputs: there is no curation ratio to vary.</p>\n");
        return;
    }
    // Small multiples: each curve on its own scale, so a flat one is not crushed by a steep one.
    page.push_str("<div id=\"curation-curves\" class=\"curves\">\n");
    for (i, curve) in curves.iter().enumerate() {
        small_chart(page, curve, PALETTE[i % PALETTE.len()]);
    }
    page.push_str("</div>\n<table>\n<tr><th>model</th><th>input</th><th>alignment J at c = 0</th><th>at c = 1</th><th>curation</th></tr>\n");
    for (i, curve) in curves.iter().enumerate() {
        let (first, last) = (curve.points[0].1, curve.points[curve.points.len() - 1].1);
        let verdict = match curve.turn {
            Some((c, _)) => format!("turns from help to harm at c = {c:.2}"),
            None if last > first => "helps throughout".to_owned(),
            None if last < first => "harms throughout".to_owned(),
            None => "no effect".to_owned(),
        };
        let _ = writeln!(
            page,
            "<tr><td><span style=\"color:{}\">&#9632;</span> {}</td><td>{}</td><td>{first:.4}</td>\
             <td>{last:.4}</td><td>{}</td></tr>",
            PALETTE[i % PALETTE.len()],
            esc(&curve.model),
            esc(&curve.from),
            esc(&verdict)
        );
    }
    page.push_str("</table>\n");
}

/// One curve in a small chart of its own, its turn circled and labelled.
fn small_chart(page: &mut String, curve: &Curve, colour: &str) {
    let (w, h) = (300.0, 170.0);
    let (left, right, top, bottom) = (52.0, 10.0, 24.0, 30.0);
    let (lo, hi) = curve
        .points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let span = if hi - lo > 1e-12 { hi - lo } else { 1.0 };
    let sx = |c: f64| left + c * (w - left - right);
    let sy = |j: f64| top + (1.0 - (j - lo) / span) * (h - top - bottom);
    let _ = write!(
        page,
        "<svg class=\"curve\" role=\"img\" aria-label=\"J of {m} against c of its input from \
         {f}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
         <text x=\"{left}\" y=\"14\" font-size=\"12\">J of {m} against c of input {f}</text>\
         <line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#9e9e9e\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{b}\" stroke=\"#9e9e9e\"/>\
         <text x=\"{left}\" y=\"{lx}\" font-size=\"10\">c = 0</text>\
         <text x=\"{r}\" y=\"{lx}\" font-size=\"10\" text-anchor=\"end\">c = 1</text>\
         <text x=\"{ax}\" y=\"{ty}\" font-size=\"10\" text-anchor=\"end\">{hi:.3}</text>\
         <text x=\"{ax}\" y=\"{b}\" font-size=\"10\" text-anchor=\"end\">{lo:.3}</text>",
        m = esc(&curve.model),
        f = esc(&curve.from),
        b = h - bottom,
        r = w - right,
        lx = h - 14.0,
        ax = left - 4.0,
        ty = top + 8.0,
    );
    let path: Vec<String> = curve
        .points
        .iter()
        .map(|&(c, j)| format!("{:.1},{:.1}", sx(c), sy(j)))
        .collect();
    let _ = write!(
        page,
        "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
        path.join(" ")
    );
    if let Some((c, j)) = curve.turn {
        let _ = write!(
            page,
            "<circle class=\"turn\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"none\" \
             stroke=\"#c62828\" stroke-width=\"2\"><title>curation turns from help to harm at \
             c = {c:.2}</title></circle><text x=\"{x:.1}\" y=\"{ly:.1}\" font-size=\"10\" \
             text-anchor=\"middle\" fill=\"#c62828\">turns at c = {c:.2}</text>",
            x = sx(c),
            y = sy(j),
            ly = sy(j) + 18.0,
        );
    }
    page.push_str("</svg>\n");
}

fn errors(page: &mut String, report: &Report) {
    if report.errors.is_empty() {
        return;
    }
    page.push_str("<h2>Records that could not be read</h2>\n<table>\n<tr><th>where</th><th>field</th><th>problem</th></tr>\n");
    for e in report.errors.iter().take(50) {
        let l = &e.locator;
        let mut at = l.file.display().to_string();
        if let Some(line) = l.line {
            let _ = write!(at, ":{line}");
        }
        if let Some(row) = l.row {
            let _ = write!(at, " row {row}");
        }
        let _ = writeln!(
            page,
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            esc(&at),
            esc(&e.field),
            esc(&e.message)
        );
    }
    page.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn the_paper_mechanism_curve_turns_from_help_to_harm() {
        // The paper's mechanism at lambda = 0.8, where the analysis finds dJ_p/dc < 0
        // (curation backfires on p): p's curve must rise first and turn below 0.8.
        let eco = Ecosystem::from_toml_str(
            include_str!("../../../../examples/ecosystems/paper_mechanism.toml"),
            "paper_mechanism.toml",
        )
        .unwrap();
        let curves = sweep_curves(&eco);
        let p = curves
            .iter()
            .find(|c| c.model == "p" && c.from == "q")
            .unwrap();
        let (c, _) = p
            .turn
            .expect("curation of q's outputs for p turns from help to harm");
        assert!(c < 0.8, "turn at {c}");
        assert!(p.points[1].1 > p.points[0].1, "curation helps at first");
        for curve in &curves {
            assert_eq!(curve.points.len(), CURVE_POINTS);
            // The marked turn is the curve's maximum, strictly inside the range.
            if let Some((c, j)) = curve.turn {
                assert!(c > 0.0 && c < 1.0);
                assert!(curve.points.iter().all(|p| p.1 <= j));
            }
        }
    }
}
