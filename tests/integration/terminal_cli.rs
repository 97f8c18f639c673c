//! The commands around the scan (`policy check`, `init`, `completions`, `man`), the terminal
//! (`-q`, colour, the progress bar) and the CI examples of `examples/ci`.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use serde_json::{Value, json};

use crate::support::{provguard, read_jsonl, write_jsonl};

/// The repository's top folder.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A ledger holding the example sources: text-davinci-003's answers (synthetic) and the
/// experts' answers (human) of the same tasks.
fn example_ledger(dir: &Path) -> PathBuf {
    let ledger = dir.join("ledger");
    let sources = repo().join("examples/data/sources");
    for (source, origin, field, file) in [
        (
            "text-davinci-003",
            "synthetic",
            "response",
            "text-davinci-003.jsonl",
        ),
        (
            "experts",
            "human",
            "instances[].output",
            "self-instruct-experts.jsonl",
        ),
    ] {
        provguard(&ledger)
            .args(["register", "--source", source, "--origin", origin])
            .args(["--field", field])
            .arg(sources.join(file))
            .assert()
            .success();
    }
    ledger
}

/// `n` records of the experts' answers and `m` of text-davinci-003's, as `{"text": ...}`.
fn mixture(n: usize, m: usize) -> Vec<Value> {
    let sources = repo().join("examples/data/sources");
    let experts = read_jsonl(&sources.join("self-instruct-experts.jsonl"));
    let davinci = read_jsonl(&sources.join("text-davinci-003.jsonl"));
    let mut records: Vec<Value> = experts[..n]
        .iter()
        .map(|r| json!({"text": r["instances"][0]["output"]}))
        .collect();
    records.extend(davinci[..m].iter().map(|r| json!({"text": r["response"]})));
    records
}

#[test]
fn policy_check_accepts_the_shipped_policies_and_says_what_each_sets() {
    let policies: Vec<PathBuf> = ["default", "strict", "research"]
        .iter()
        .map(|p| repo().join(format!("policies/{p}.toml")))
        .collect();
    let out = provguard(Path::new("unused"))
        .args(["policy", "check"])
        .args(&policies)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("default.toml: valid"), "{text}");
    assert!(
        lines[1].contains("min_human_share flag 0.7 block 0.5"),
        "{text}"
    );
    assert!(
        lines[1].contains("backfire block, rejected block"),
        "{text}"
    );
    assert!(lines[2].contains("unknown exclude"), "{text}");
    assert!(
        !lines[2].contains("block 0"),
        "research never blocks: {text}"
    );
}

#[test]
fn policy_errors_name_the_file_the_key_and_the_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "unknown_key.toml",
            "# a comment\n[limits]\nmax_unknwn_share = 0.2\n",
            "unknown_key.toml:3:1: ",
            "limits.max_unknwn_share",
        ),
        (
            "out_of_range.toml",
            "[limits]\nmin_human_share = 0.5\n\n[sources.max_share]\ngpt4 = { flag = 0.2, block = 1.5 }\n",
            "out_of_range.toml:5:22: ",
            "sources.max_share.gpt4.block",
        ),
        (
            "misordered.toml",
            "[limits]\nmax_synthetic_depth = { flag = 3.0,\n    block = 1.0 }\n",
            "misordered.toml:3:5: ",
            "limits.max_synthetic_depth",
        ),
        (
            "syntax.toml",
            "[gate]\nbackfire = \"flag\"\nunknown = count-as-human\n",
            "syntax.toml:3:",
            "gate.unknown",
        ),
    ];
    let valid = repo().join("policies/default.toml");
    for (name, text, location, key) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();

        // `policy check` goes on to the next file and exits 2.
        let out = provguard(Path::new("unused"))
            .current_dir(dir.path())
            .args(["policy", "check", name])
            .arg(&valid)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("error: {location}")),
            "{name}: {err}"
        );
        assert!(err.contains(&format!("`{key}")), "{name}: {err}");
        assert!(stdout(&out).contains("default.toml: valid"), "{name}");

        // `scan --policy` reads the policy the same way, before the ledger.
        let out = provguard(&dir.path().join("no-ledger"))
            .current_dir(dir.path())
            .args(["scan", "data.jsonl", "--home", "m", "--policy", name])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = stderr(&out);
        assert!(
            err.starts_with("error: cannot use the policy"),
            "{name}: {err}"
        );
        assert!(
            err.contains(&format!("caused by: {location}")),
            "{name}: {err}"
        );
        assert!(err.contains(&format!("`{key}")), "{name}: {err}");
    }
}

#[test]
fn init_writes_the_default_policy_and_an_empty_ledger_and_never_overwrites_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("project");
    let ledger = target.join(".provguard");
    let out = provguard(&ledger)
        .arg("init")
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let policy = target.join("provguard-policy.toml");
    let default = std::fs::read_to_string(repo().join("policies/default.toml")).unwrap();
    assert_eq!(std::fs::read_to_string(&policy).unwrap(), default);
    assert!(ledger.is_dir());
    let next = stdout(&out);
    assert!(next.contains("provguard register"), "{next}");
    assert!(next.contains("provguard scan"), "{next}");

    // A second run refuses and leaves the edited policy alone; `--force` overwrites it.
    std::fs::write(&policy, "[limits]\nmin_human_share = 0.9\n").unwrap();
    let out = provguard(&ledger)
        .arg("init")
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&policy).unwrap().contains("0.9"));
    let out = provguard(&ledger)
        .args(["init", "--force"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&policy).unwrap(), default);

    // The folder is a ledger to be: registering fills it, and it verifies whole.
    provguard(&ledger)
        .args(["register", "--source", "experts", "--origin", "human"])
        .args(["--field", "instances[].output"])
        .arg(repo().join("examples/data/sources/self-instruct-experts.jsonl"))
        .assert()
        .success();
    provguard(&ledger)
        .args(["ledger", "verify"])
        .assert()
        .success();
    // Once it holds a ledger, init leaves it as it is.
    let manifest = std::fs::read(ledger.join("manifest.json")).unwrap();
    provguard(&ledger)
        .args(["init", "--force"])
        .arg(&target)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(ledger.join("manifest.json")).unwrap(),
        manifest
    );
}

#[test]
fn init_checks_before_writing_and_prints_paths_a_shell_takes_whole() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the ledger folder would go: refused, and nothing written.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir_all(&blocked).unwrap();
    std::fs::write(blocked.join(".provguard"), "not a folder").unwrap();
    let out = provguard(&blocked.join(".provguard"))
        .arg("init")
        .arg(&blocked)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!blocked.join("provguard-policy.toml").exists());

    // A folder with a space and a quote: the next steps quote it for the shell.
    let odd = dir.path().join("sub dir's");
    let out = provguard(&odd.join(".provguard"))
        .arg("init")
        .arg(&odd)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let next = stdout(&out);
    let quoted = format!(
        "--ledger '{}'",
        odd.join(".provguard")
            .display()
            .to_string()
            .replace('\'', "'\\''")
    );
    assert!(next.contains(&quoted), "{next}");
}

#[test]
fn completions_and_man_pages_cover_every_command() {
    let run = |args: &[&str]| {
        let out = provguard(Path::new("unused")).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let bash = run(&["completions", "bash"]);
    for command in [
        "register", "scan", "simulate", "ledger", "query", "policy", "init",
    ] {
        assert!(bash.contains(command), "bash completion lacks {command}");
    }
    assert!(
        bash.contains("--home"),
        "bash completion lacks scan's options"
    );
    for shell in ["zsh", "fish"] {
        assert!(run(&["completions", shell]).contains("policy"), "{shell}");
    }

    let main = run(&["man"]);
    assert!(main.contains(".TH provguard 1"), "{main}");
    assert!(main.contains("provguard\\-scan(1)"), "{main}");
    let scan = run(&["man", "scan"]);
    assert!(scan.contains(".TH provguard-scan 1"), "{scan}");
    for option in [
        "\\-\\-home",
        "\\-\\-policy",
        "\\-\\-lenient",
        "\\-\\-report",
    ] {
        assert!(scan.contains(option), "man scan lacks {option}");
    }
    assert!(run(&["man", "policy", "check"]).contains(".TH provguard-policy-check 1"));

    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man1");
    run(&["man", "--out", out_dir.to_str().unwrap()]);
    let page = std::fs::read_to_string(out_dir.join("provguard-scan.1")).unwrap();
    assert_eq!(page, scan);
    assert!(out_dir.join("provguard-ledger-verify.1").is_file());
    assert!(out_dir.join("provguard.1").is_file());
}

#[test]
fn quiet_prints_only_the_verdict_and_nothing_on_standard_error() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = example_ledger(dir.path());
    let data = dir.path().join("data.jsonl");
    write_jsonl(&data, &mixture(20, 20));
    // A line that cannot be read: listed on standard error, and strict mode blocks.
    let mut text = std::fs::read_to_string(&data).unwrap();
    text.push_str("{\"text\": broken\n");
    std::fs::write(&data, text).unwrap();

    let scan = |extra: &[&str]| {
        provguard(&ledger)
            .arg("scan")
            .arg(&data)
            .args(["--home", "m"])
            .args(extra)
            .output()
            .unwrap()
    };
    let loud = scan(&[]);
    assert_eq!(loud.status.code(), Some(1));
    assert!(stderr(&loud).contains("data.jsonl:41"), "{}", stderr(&loud));
    assert!(stdout(&loud).contains("composition of 40 admitted records"));

    let quiet = scan(&["-q"]);
    assert_eq!(quiet.status.code(), Some(1));
    assert_eq!(stderr(&quiet), "");
    let text = stdout(&quiet);
    assert!(text.starts_with("verdict: BLOCK\n"), "{text}");
    assert!(text.lines().skip(1).all(|l| l.starts_with("  ")), "{text}");
    assert!(
        text.contains("strict: 1 records could not be read"),
        "{text}"
    );

    // The JSON report is unchanged by -q.
    let json = scan(&["-q", "--format", "json"]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["verdict"], json!("block"));
    assert_eq!(stderr(&json), "");

    // -q and -v contradict each other.
    assert_eq!(scan(&["-q", "-v"]).status.code(), Some(2));
}

#[test]
fn the_verdict_is_coloured_only_when_asked_or_on_a_terminal_and_never_with_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = example_ledger(dir.path());
    let data = dir.path().join("data.jsonl");
    write_jsonl(&data, &mixture(30, 5));
    let scan = |env: &[(&str, &str)]| {
        let mut cmd = provguard(&ledger);
        cmd.env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd
            .arg("scan")
            .arg(&data)
            .args(["--home", "m"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    // Standard output is a pipe here: no colour unless forced.
    let plain = scan(&[]);
    assert!(plain.contains("\nverdict: PASS"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "{plain}");
    let forced = scan(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains("verdict: \u{1b}["), "{forced}");
    // Only the verdict word is coloured.
    let coloured: Vec<&str> = forced.lines().filter(|l| l.contains('\u{1b}')).collect();
    assert_eq!(coloured.len(), 1, "{forced}");
    assert!(coloured[0].ends_with("PASS\u{1b}[0m"), "{forced}");
    let no_color = scan(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!no_color.contains('\u{1b}'), "{no_color}");
}

#[test]
fn no_progress_bar_is_drawn_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = example_ledger(dir.path());
    let data = dir.path().join("data.jsonl");
    write_jsonl(&data, &mixture(30, 5));
    let out = provguard(&ledger)
        .env_remove("CI")
        .arg("scan")
        .arg(&data)
        .args(["--home", "m", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
}

/// The files of `examples/ci` and the pre-commit framework's hook file.
fn ci_examples() -> Vec<PathBuf> {
    [
        "examples/ci/github-actions.yml",
        "examples/ci/gitlab-ci.yml",
        "examples/ci/pre-commit-hook.sh",
        ".pre-commit-hooks.yaml",
    ]
    .iter()
    .map(|p| repo().join(p))
    .collect()
}

#[test]
fn the_ci_examples_use_only_options_that_scan_has() {
    let help = provguard(Path::new("unused"))
        .args(["scan", "--help"])
        .output()
        .unwrap();
    let help = stdout(&help);
    let mut checked = 0;
    for file in ci_examples() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains('\t'),
            "{}: YAML forbids tabs",
            file.display()
        );
        // Every `provguard scan ...` command, continued over `\` line ends.
        let joined = text.replace("\\\n", " ");
        for line in joined.lines().filter(|l| l.contains("provguard scan")) {
            for option in line.split_whitespace().filter(|w| w.starts_with("--")) {
                let option = option.split('=').next().unwrap();
                assert!(
                    help.contains(&format!("{option} ")) || help.contains(&format!("{option}\n")),
                    "{}: `provguard scan` has no {option}",
                    file.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "found only {checked} options");
    for value in ["--format sarif", "--report-dir provguard-report"] {
        let github = std::fs::read_to_string(&ci_examples()[0]).unwrap();
        assert!(github.contains(value), "{value}");
    }
}

#[test]
fn the_pre_commit_hook_is_valid_bash_and_refuses_a_contaminated_commit() {
    let hook = repo().join("examples/ci/pre-commit-hook.sh");
    let status = Process::new("bash").arg("-n").arg(&hook).status().unwrap();
    assert!(status.success());

    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let git = |args: &[&str]| {
        let out = Process::new("git")
            .current_dir(&work)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    };
    git(&["init", "-q"]);
    git(&["config", "user.email", "test@example.invalid"]);
    git(&["config", "user.name", "test"]);
    git(&["config", "provguard.home", "my-model"]);
    let ledger = example_ledger(&work);
    let hooks = work.join(".git/hooks");
    std::fs::copy(&hook, hooks.join("pre-commit")).unwrap();

    // The built binary on PATH, as an installed provguard would be.
    let bin = Path::new(env!("CARGO_BIN_EXE_provguard")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commit = |message: &str| {
        Process::new("git")
            .current_dir(&work)
            .args(["commit", "-q", "-m", message])
            .env("PATH", &path)
            .env("PROVGUARD_LEDGER", &ledger)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("PROVGUARD")
            .output()
            .unwrap()
    };

    // People's answers only: the commit goes through.
    write_jsonl(&work.join("human.jsonl"), &mixture(40, 0));
    git(&["add", "human.jsonl"]);
    let out = commit("human data");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // git sends a hook's standard output to its standard error.
    assert!(stderr(&out).contains("verdict: PASS"), "{}", stderr(&out));

    // Another model's answers: blocked, and it is the staged content that is judged.
    let contaminated = work.join("train.jsonl");
    write_jsonl(&contaminated, &mixture(2, 40));
    git(&["add", "train.jsonl"]);
    write_jsonl(&contaminated, &mixture(40, 0));
    let out = commit("contaminated data");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("verdict: BLOCK"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the commit is refused"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_text_of_the_terminal_commands() {
    for args in [
        &["policy", "check", "--help"][..],
        &["init", "--help"],
        &["completions", "--help"],
        &["man", "--help"],
    ] {
        let out = provguard(Path::new("unused"))
            .args(args)
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert!(out.status.success());
        let name = format!("help_{}", args.join("_").replace("--", ""));
        insta::assert_snapshot!(name, stdout(&out));
    }
}
