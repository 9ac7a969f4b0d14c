//! Repository paths: the file names of a run (as the user gave them) and the paths written in
//! Flux Kustomizations, Argo CD Applications and `kustomization.yaml` files, normalised so that
//! they compare. Pure string work: nothing here looks at a file system.

/// A path with `/` separators, no `.` segments, `..` resolved where it can be, no trailing
/// `/`; `""` is the root of the run, a leading `/` is kept for absolute names.
#[must_use]
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/') || path.starts_with('\\');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// `dir` joined with a relative `path` (an absolute `path` stands alone).
#[must_use]
pub fn join(dir: &str, path: &str) -> String {
    if path.starts_with('/') || dir.is_empty() {
        return normalize(path);
    }
    normalize(&format!("{dir}/{path}"))
}

/// The directory of a normalised file path (`""` for a file at the root).
#[must_use]
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => path.get(..i).unwrap_or(""),
        None => "",
    }
}

/// The last segment of a path.
#[must_use]
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Every ancestor of a normalised directory, itself included, shallowest first:
/// `a/b` -> `["", "a", "a/b"]`.
#[must_use]
pub fn ancestors(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    if dir.starts_with('/') {
        out.push("/".to_string());
    } else {
        out.push(String::new());
    }
    let mut current = String::new();
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        if current.is_empty() && !dir.starts_with('/') {
            current = part.to_string();
        } else if current.is_empty() {
            current = format!("/{part}");
        } else {
            current = format!("{current}/{part}");
        }
        out.push(current.clone());
    }
    out
}

/// Whether `path` is `dir` or lies below it.
#[must_use]
pub fn is_within(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/') || dir.ends_with('/'))
}

/// A path written in a manifest that names another repository or a URL, not a path here.
#[must_use]
pub fn is_remote(path: &str) -> bool {
    path.contains("://")
        || path.starts_with("git@")
        || path.starts_with("github.com/")
        || path.starts_with("gitlab.com/")
        || path.starts_with("bitbucket.org/")
}

/// The file names kustomize reads as a kustomization (`konfig.RecognizedKustomizationFileNames`);
/// the CLI reads only the first two, the third has no extension.
pub const KUSTOMIZATION_FILES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether a file is a kustomization by its name.
#[must_use]
pub fn is_kustomization_file(path: &str) -> bool {
    KUSTOMIZATION_FILES.contains(&file_name(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(normalize("./clusters/prod/"), "clusters/prod");
        assert_eq!(
            normalize("apps/production/../base/podinfo"),
            "apps/base/podinfo"
        );
        assert_eq!(normalize("../x/./y"), "../x/y");
        assert_eq!(normalize("/abs/a/../b"), "/abs/b");
        assert_eq!(normalize("a\\b"), "a/b");
        assert_eq!(normalize("."), "");
        assert_eq!(
            join("apps/production", "../base/podinfo"),
            "apps/base/podinfo"
        );
        assert_eq!(join("", "./infra"), "infra");
        assert_eq!(parent("a/b/c.yaml"), "a/b");
        assert_eq!(parent("c.yaml"), "");
        assert_eq!(ancestors("a/b"), vec!["", "a", "a/b"]);
        assert_eq!(ancestors(""), vec![""]);
        assert_eq!(ancestors("/r/a"), vec!["/", "/r", "/r/a"]);
        assert!(is_within("a/b/c", "a/b"));
        assert!(!is_within("a/bc", "a/b"));
        assert!(is_within("x", ""));
    }
}
