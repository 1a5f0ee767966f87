//! `orgtrail report`: the auditor's HTML file. From `--verify FILE.json` (else verify runs now) and
//! `--validate FILE.json` (validate-logs' JSON), plus the rollout runs of the state. Every input is
//! read and checked before anything is written: a wrong file exits 2 and leaves no report.
use std::path::{Path, PathBuf};

use clap::Args;
use orgtrail::report_html::{self, RunDoc, ValidateDoc, VerifyDoc};
use orgtrail_state::format_millis;
use serde::de::DeserializeOwned;

use super::output::outln;
use crate::failure::{Context, Exit, Failure};
use crate::settings::Settings;

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Where to write the HTML report.
    #[arg(long, value_name = "PATH", default_value = "report.html")]
    pub output: PathBuf,
    /// verify's JSON (`orgtrail verify --json --output verify.json`) [default: run verify now].
    #[arg(long, value_name = "FILE.json")]
    pub verify: Option<PathBuf>,
    /// validate-logs' JSON (`orgtrail validate-logs --digests-only --format json --output validate.json`) [default: integrity not shown].
    #[arg(long, value_name = "FILE.json")]
    pub validate: Option<PathBuf>,
}

/// A JSON input file, which must be an object holding `required` (what tells verify's from validate-logs').
fn read_json<T: DeserializeOwned>(path: &Path, what: &str, required: &str) -> Result<T, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::bad_input(format!("cannot read {what} {}: {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| Failure::bad_input(format!("{} is not JSON: line {}, column {}: {e}", path.display(), e.line(), e.column())))?;
    if value.get(required).is_none() {
        return Err(Failure::bad_input(format!("{} is not {what} (it has no `{required}`)", path.display())));
    }
    serde_json::from_value(value).map_err(|e| Failure::bad_input(format!("{} is not {what}: {e}", path.display())))
}

pub async fn report(settings: &Settings, args: &ReportArgs) -> Result<Exit, Failure> {
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(Failure::bad_input(format!("--output {}: the directory {} does not exist", args.output.display(), dir.display())));
        }
    }
    let validate: Option<ValidateDoc> = args.validate.as_deref().map(|p| read_json(p, "validate-logs JSON", "pairs")).transpose()?;
    let verify: VerifyDoc = match &args.verify {
        Some(path) => read_json(path, "verify JSON", "accounts_checked")?,
        None => {
            let (report, _live) = super::verify::audit(settings).await?;
            serde_json::from_value(serde_json::to_value(&report).expect("a report serializes")).expect("verify's JSON reads back")
        }
    };
    let (runs, runs_note) = runs(settings).await?;
    let generated_at = format_millis(orgtrail_state::now_millis());
    let view = report_html::view(&verify, validate.as_ref(), runs, runs_note, &generated_at);
    let html = report_html::render(&view).map_err(|e| Failure::new(orgtrail::exit::ExitClass::Environment, e))?;
    std::fs::write(&args.output, &html).with_context(|| format!("cannot write {}", args.output.display()))?;
    let figures = view.headline.figures.iter().map(|f| if f.of == 0 { format!("{}: —", f.title.to_lowercase()) } else { format!("{}: {} of {}", f.title.to_lowercase(), f.value, f.of) }).collect::<Vec<_>>().join(", ");
    eprintln!("{} ({figures}; {} bytes)", view.headline.verdict.label, html.len());
    outln!("{}", args.output.display())?;
    Ok(Exit::Ok)
}

/// The rollout runs as `status` lists them, newest first, with their per-wave totals.
async fn runs(settings: &Settings) -> Result<(Vec<RunDoc>, String), Failure> {
    let Some(view) = super::state::view(settings, None).await? else {
        return Ok((vec![], "No rollout state was found where this config keeps it: no runs to show.".into()));
    };
    let mut docs = Vec::new();
    for r in view.store.runs()? {
        let waves = view.store.wave_counts(&r.id)?;
        let sum = |f: fn(&orgtrail_state::WaveCounts) -> usize| waves.iter().map(f).sum::<usize>();
        docs.push(RunDoc {
            id: r.id.clone(),
            started_at: format_millis(r.started_at),
            updated_at: format_millis(r.updated_at),
            open: r.open,
            why: r.why.clone(),
            targets: sum(|w| w.targets),
            done: sum(|w| w.done),
            failed: sum(|w| w.failed),
            needs_manual_action: sum(|w| w.needs_manual_action),
        });
    }
    Ok((docs, format!("From the rollout state in {} (`orgtrail status`).", view.location)))
}
