//! Draws docs/performance.svg from the CSV that benches/compare.sh writes:
//! wall time against layer size (log-log) for `wasm-image validate` and
//! `build` and their baselines, with a line of slope 1 through the largest
//! validate point to show that the cost is linear in the bytes.
//!
//! `cargo run --release --example plot_performance -- docs/performance.csv docs/performance.svg`

use std::error::Error;

use plotters::prelude::*;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let input = args.next().unwrap_or_else(|| "docs/performance.csv".into());
    let output = args.next().unwrap_or_else(|| "docs/performance.svg".into());
    let text = std::fs::read_to_string(&input)?;
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .ok_or("empty CSV")?
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<f64>> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|v| v.trim().parse::<f64>()).collect())
        .collect::<Result<_, _>>()?;
    if rows.is_empty() || header.len() < 2 {
        return Err("no data rows".into());
    }
    let xs: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let all_y = rows.iter().flat_map(|r| r[1..].iter().copied());
    let (ymin, ymax) = all_y.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
    let (xmin, xmax) = (
        xs.iter().copied().fold(f64::MAX, f64::min),
        xs.iter().copied().fold(f64::MIN, f64::max),
    );

    let root = SVGBackend::new(&output, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("wall time against layer size (log-log)", ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (xmin * 0.8..xmax * 1.25).log_scale(),
            (ymin.max(1e-4) * 0.7..ymax * 1.5).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("layer size (MiB)")
        .y_desc("wall time (s)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.3}"))
        .draw()?;

    let colors = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    for (i, name) in header.iter().enumerate().skip(1) {
        let color = colors[(i - 1) % colors.len()];
        let points: Vec<(f64, f64)> = rows.iter().map(|r| (r[0], r[i])).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(name.replace('_', " "))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
    }
    // Linear cost: time proportional to size, through the largest validate point.
    if let Some(last) = rows.last() {
        let per_mib = last[1] / last[0];
        let ideal = [(xmin, xmin * per_mib), (xmax, xmax * per_mib)];
        chart
            .draw_series(LineSeries::new(ideal, BLACK.mix(0.3).stroke_width(1)))?
            .label("slope 1 (linear in bytes)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.3)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
