//! Schema rules: what the Kubernetes API server would reject (SCH001) or silently drop (SCH002)
//! in an object whose kind has a schema (built in, or from a CRD given with `--crd`).

pub mod schema_violation;
pub mod unknown_field_pruned;

use crate::fix::{Applicability, Change, Quotes};
use crate::rules::{Context, Findings};
use crate::schema::{IssueFix, IssueKind, validate};

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
            match issue.fix {
                Some(IssueFix::Unquote(plain)) => {
                    violation.fix(
                        Applicability::Safe,
                        format!("remove the quotes: `{plain}`"),
                        Change::Replace {
                            node: issue.at,
                            text: plain,
                            quotes: Quotes::Drop,
                        },
                    );
                }
                // The value written under the misspelt key starts to take effect.
                Some(IssueFix::Rename(name)) => {
                    violation.fix(
                        Applicability::Unsafe,
                        format!("rename the field to `{name}`"),
                        Change::RenameKey {
                            key: issue.at,
                            to: name,
                        },
                    );
                }
                None => {}
            }
        }
    }
}
