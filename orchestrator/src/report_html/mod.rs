//! `orgtrail report`: one self-contained HTML file for people who ask whether CloudTrail covers the
//! organization: the headline, the OU tree with every account's state, the controls with their CIS
//! and Security Hub mapping and evidence, the integrity per account × region, and the rollout runs.
//! Built from verify's and validate-logs' JSON and the state's runs alone. Inline CSS and SVG, no
//! script and no fetch: it reads offline from disk and in print. Rendered by minijinja with HTML
//! autoescaping, so a name holding `<script>` or quotes shows as text.
pub mod input;
pub mod model;
mod tree;

use minijinja::{AutoEscape, Environment};

pub use input::{RunDoc, ValidateDoc, VerifyDoc};
pub use model::{view, View};

const TEMPLATE: &str = include_str!("../../../templates/report/report.html");
const STYLE: &str = include_str!("../../../templates/report/report.css");

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("rendering the report template: {0:#}")]
    Template(#[from] minijinja::Error),
}

/// The report's HTML for `view`.
pub fn render(view: &View) -> Result<String, ReportError> {
    let mut env = Environment::new();
    // Every value escaped for HTML, whatever the template's name.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("report.html", TEMPLATE)?;
    let template = env.get_template("report.html")?;
    Ok(template.render(minijinja::context! { v => view, style => STYLE })?)
}

#[cfg(test)]
mod tests;
