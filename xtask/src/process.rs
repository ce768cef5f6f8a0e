//! Running commands: a PATH that finds the project's tools, streamed output,
//! and children that stop when xtask stops.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{root, TaskResult};

/// `PATH` with the project's npm tools and cargo's install directory first,
/// so binaryen 132's `wasm-opt` wins over any system copy.
pub fn tool_path() -> OsString {
    let mut dirs = vec![root().join("node_modules/.bin"), cargo_bin_dir()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).expect("PATH entries contain no separator")
}

/// Where `cargo install` puts binaries.
pub fn cargo_bin_dir() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("bin")
}

/// A command in the repository root with the tool `PATH`.
pub fn command(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(root())
        .env("PATH", tool_path());
    command
}

/// Describes a command for messages.
pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs a command with inherited output; fails unless it exits 0.
pub fn exec(mut command: Command) -> TaskResult {
    let status = command
        .status()
        .map_err(|error| format!("could not start `{}`: {error}", describe(&command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(&command)))
    }
}

/// Runs a command, printing its stdout as it comes and returning it too.
/// Returns whether it exited 0.
pub fn run_teed(mut command: Command) -> Result<(bool, String), String> {
    command.stdout(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|error| format!("could not start `{}`: {error}", describe(&command)))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut captured = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|error| format!("reading output: {error}"))?;
        println!("{line}");
        captured.push_str(&line);
        captured.push('\n');
    }
    let status = child
        .wait()
        .map_err(|error| format!("waiting for `{}`: {error}", describe(&command)))?;
    Ok((status.success(), captured))
}

/// As [`run_teed`], with the command's stderr in the same stream, in the
/// order written (cargo names each test binary on stderr before its tests
/// print theirs on stdout).
pub fn run_teed_merged(mut command: Command) -> Result<(bool, String), String> {
    let (reader, writer) = std::io::pipe().map_err(|error| format!("a pipe: {error}"))?;
    let error_writer = writer
        .try_clone()
        .map_err(|error| format!("a pipe: {error}"))?;
    command.stdout(writer).stderr(error_writer);
    let described = describe(&command);
    let mut child = command
        .spawn()
        .map_err(|error| format!("could not start `{described}`: {error}"))?;
    // The command keeps the pipe's writing ends: dropped, the child holds
    // the only ones, so the reading ends when the child does.
    drop(command);
    let mut captured = String::new();
    for line in BufReader::new(reader).lines() {
        let line = line.map_err(|error| format!("reading output: {error}"))?;
        println!("{line}");
        captured.push_str(&line);
        captured.push('\n');
    }
    let status = child
        .wait()
        .map_err(|error| format!("waiting for `{described}`: {error}"))?;
    Ok((status.success(), captured))
}

/// The first line of a command's stdout, if it runs and exits 0.
pub fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let output = command(program, args).stderr(Stdio::null()).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().next().unwrap_or_default().trim().to_owned())
}
