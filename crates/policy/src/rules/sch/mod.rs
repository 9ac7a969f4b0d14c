//! Schema rules: what the Kubernetes API server would reject (SCH001) or silently drop (SCH002)
//! in an object whose kind has a schema (built in, or from a CRD given with `--crd`).

pub mod schema_violation;
pub mod unknown_field_pruned;

use crate::rules::{Context, Findings};
use crate::schema::{IssueKind, validate};

/// Reports the issues of `kind` in every document that has a schema.
fn report<'a>(cx: &Context<'a>, out: &mut Findings<'a>, kind: IssueKind) {
    for doc in cx.documents {
        let Some(schema) = cx.schema_for(doc) else {
            continue;
        };
        for issue in validate(schema, &doc.root) {
            if issue.kind != kind {
                continue;
            }
            let violation = out.report(doc, issue.at, issue.message);
            if let Some(help) = issue.help {
                violation.help(help);
            }
        }
    }
}
