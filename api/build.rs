//! Embeds the web app (`../web`, without its tests and generated types) in the binary: writes
//! `$OUT_DIR/web_assets.rs`, a list of `(path, bytes)` read by `src/http/app.rs`.

use std::{
    env, fs,
    path::{Path, PathBuf},
};

/// Folders of `web/` that are not part of the app.
const SKIPPED: &[&str] = &["tests", "types", "node_modules"];

/// Files that only the type check reads.
fn for_the_type_check(name: &str) -> bool {
    name.ends_with(".d.ts") || name == "tsconfig.json"
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || for_the_type_check(&name) {
            continue;
        }
        if path.is_dir() {
            if !(dir == root && SKIPPED.contains(&name.as_ref())) {
                collect(root, &path, files);
            }
        } else {
            files.push(path);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest.join("../web");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut out = String::from("pub static ASSETS: &[(&str, &[u8])] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let relative = file
            .strip_prefix(&root)?
            .to_string_lossy()
            .replace('\\', "/");
        let absolute = file.canonicalize()?;
        out.push_str(&format!(
            "    ({relative:?}, include_bytes!({:?})),\n",
            absolute.display().to_string()
        ));
    }
    out.push_str("];\n");
    let target = PathBuf::from(env::var("OUT_DIR")?).join("web_assets.rs");
    fs::write(target, out)?;
    Ok(())
}
