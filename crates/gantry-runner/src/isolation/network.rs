//! A sandboxed job's network: a user and network namespace made by `pasta` as the job's user,
//! held by an idle process, with the server's door in it (`door.rs`) relayed by the runner.
//! Networks are started ahead, per user, so that a job does not wait for pasta's start.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::Arc;

use tokio::process::Command;

use super::{Sandbox, door};
use crate::job::JobDirs;

/// The network of the job in `dirs`: a spare one started ahead for its user when there is one,
/// else one started now; either way a spare is started for the user's next job, so that a job
/// right after another does not wait for pasta either.
pub(super) async fn network_of(sandbox: &Arc<Sandbox>, dirs: &JobDirs) -> std::io::Result<Arc<JobNetwork>> {
    if let Some(network) = sandbox.networks.lock().ok().and_then(|networks| networks.get(&dirs.project).cloned()) {
        return Ok(network);
    }
    let ids = sandbox.job_ids(Some(dirs));
    let spare = sandbox.spares.lock().ok().and_then(|mut spares| spares.get_mut(&ids).and_then(Vec::pop));
    let network = match spare {
        Some(network) if network.is_alive() => network,
        _ => sandbox.start_network(ids.0, ids.1).await?,
    };
    let network = Arc::new(network);
    if let Ok(mut networks) = sandbox.networks.lock() {
        networks.insert(dirs.project.clone(), Arc::clone(&network));
    }
    start_spare(Arc::clone(sandbox), ids);
    Ok(network)
}

/// Starts, in the background, a network for a later job of the user and group `ids`, unless
/// one is waiting already.
pub(super) fn start_spare(sandbox: Arc<Sandbox>, ids: (u32, u32)) {
    let waiting =
        sandbox.spares.lock().ok().is_some_and(|spares| spares.get(&ids).is_some_and(|s| s.len() >= MAX_SPARES));
    if waiting {
        return;
    }
    tokio::spawn(async move {
        match sandbox.start_network(ids.0, ids.1).await {
            Ok(spare) => {
                if let Ok(mut spares) = sandbox.spares.lock() {
                    let spares = spares.entry(ids).or_default();
                    if spares.len() < MAX_SPARES {
                        spares.push(spare);
                    }
                }
            }
            Err(error) => tracing::warn!(error = %error, "cannot start a network ahead for the next job"),
        }
    });
}

/// A job's network namespace, made by `pasta` and held by a process that does nothing in it
/// (`cat`, reading a pipe the runner holds: when the runner ends, however it ends, the pipe
/// closes, the holder ends and pasta with it); the job's commands enter it. The server's door
/// in it is relayed by `door`. Dropping it ends all three.
pub(super) struct JobNetwork {
    pasta: tokio::process::Child,
    pub(super) holder: u32,
    door: Option<tokio::task::JoinHandle<()>>,
}

impl JobNetwork {
    /// Whether its holder still runs (a spare may have been killed from outside).
    fn is_alive(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/comm", self.holder)).is_ok_and(|comm| comm.trim() == "cat")
    }
}

/// Spare networks kept per user at most: each is a pasta process of about 30 MB (its packet
/// buffers), so one, for the next job, is the balance between a job's start and an idle
/// runner's memory.
const MAX_SPARES: usize = 1;

impl Drop for JobNetwork {
    fn drop(&mut self) {
        // A holder that is gone may have had its number taken by another process.
        if self.is_alive()
            && let Some(holder) = i32::try_from(self.holder).ok().and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process(holder, rustix::process::Signal::KILL);
        }
        let _ = self.pasta.start_kill();
        if let Some(door) = &self.door {
            door.abort();
        }
    }
}

/// How long a job's network may take to come up.
const NETWORK_START: std::time::Duration = std::time::Duration::from_secs(10);

impl Sandbox {
    /// Starts `pasta` as the job's user with a holder process, and waits for the holder: pasta
    /// runs it once the namespace's network is set up.
    pub(super) async fn start_network(&self, uid: u32, gid: u32) -> std::io::Result<JobNetwork> {
        let mut command = Command::new("pasta");
        // Nothing of the runner's environment (a secret key in it, say) goes along.
        command.current_dir("/").env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
        if self.runner_is_root {
            command.uid(uid).gid(gid);
        }
        command
            .args(self.pasta_args())
            .args(["--", "cat"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut pasta = command.spawn()?;
        let pid = pasta.id().ok_or_else(|| std::io::Error::other("pasta ended at once"))?;
        let deadline = tokio::time::Instant::now() + NETWORK_START;
        loop {
            let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
            let holder = children.split_whitespace().filter_map(|child| child.parse::<u32>().ok()).find(|child| {
                std::fs::read_to_string(format!("/proc/{child}/comm")).is_ok_and(|comm| comm.trim() == "cat")
            });
            if let Some(holder) = holder {
                // What pasta says later goes to the runner's log; an unread pipe would block it.
                if let Some(stderr) = pasta.stderr.take() {
                    tokio::spawn(log_pasta(stderr));
                }
                let mut network = JobNetwork { pasta, holder, door: None };
                if let Some(server) = self.server_address {
                    let door = self.open_door(holder, server).await?;
                    network.door = Some(tokio::spawn(door::relay(door, server)));
                }
                return Ok(network);
            }
            if let Some(status) = pasta.try_wait()? {
                let mut said = String::new();
                if let Some(mut stderr) = pasta.stderr.take() {
                    let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut said).await;
                }
                let said: Vec<&str> = said.lines().filter(|line| !line.contains("to syslog")).collect();
                return Err(std::io::Error::other(format!("pasta ended ({status}): {}", said.join("; "))));
            }
            if tokio::time::Instant::now() > deadline {
                return Err(std::io::Error::other("pasta did not set up the network in time"));
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Opens the server's door in the network that `holder` holds: the door program, run there
    /// as the runner's user, listens on the server's address and hands the socket over.
    async fn open_door(&self, holder: u32, server: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
        let Some((program, args)) = self.settings.door_program.split_first() else {
            return Err(std::io::Error::other("no program is given to open a job network's door"));
        };
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
        let mut command = Command::new("nsenter");
        command
            .current_dir("/")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .arg("--target")
            .arg(holder.to_string())
            .args(["--user", "--net", "--preserve-credentials", "--"])
            .arg(program)
            .args(args)
            .arg(server.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(OwnedFd::from(theirs)))
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn()?;
        // The child's end of the socket is the child's alone now: once it ends, nothing more comes.
        drop(command);
        let ended = tokio::time::timeout(NETWORK_START, child.wait_with_output())
            .await
            .map_err(|_| std::io::Error::other("the job network's door did not open in time"))??;
        if !ended.status.success() {
            let said = String::from_utf8_lossy(&ended.stderr);
            return Err(std::io::Error::other(format!(
                "the job network's door did not open ({}): {}",
                ended.status,
                said.trim()
            )));
        }
        tokio::net::TcpListener::from_std(door::receive_door(&ours)?)
    }

    /// pasta's arguments. Without `--config-net` the namespace's interface stays down, with no
    /// address and no route: only its loopback works, where the forwarded ports are.
    fn pasta_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = ["--quiet", "--no-map-gw", "-t", "none", "-u", "none", "-U", "none"]
            .into_iter()
            .map(OsString::from)
            .collect();
        let forwarded: Vec<String> = self.settings.loopback_ports.iter().map(u16::to_string).collect();
        let forwarded = if forwarded.is_empty() { "none".to_owned() } else { forwarded.join(",") };
        args.extend(["-T".into(), forwarded.into()]);
        if self.settings.internet {
            args.push("--config-net".into());
            if let Some(interface) = &self.outbound_interface {
                args.extend(["--outbound-if4".into(), interface.into(), "--outbound-if6".into(), interface.into()]);
            }
        }
        args
    }
}

/// Logs what a job network's pasta writes once it runs, line by line, until it ends.
async fn log_pasta(stderr: tokio::process::ChildStderr) {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if !line.contains("to syslog") {
            tracing::warn!(pasta = %line, "a job network's pasta says");
        }
    }
}

/// The address of `url` when its host is a loopback address (`localhost`: 127.0.0.1).
pub(super) fn loopback_address(url: &str) -> Option<std::net::SocketAddr> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    let address = if host.eq_ignore_ascii_case("localhost") {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().ok()?
    };
    let port = parsed.port_or_known_default()?;
    address.is_loopback().then_some(std::net::SocketAddr::new(address, port))
}

/// The interface of the IPv4 default route, from `/proc/net/route`.
pub(super) fn default_route_interface() -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/route").ok()?;
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(1) == Some(&"00000000") && fields.get(7) == Some(&"00000000")).then(|| fields[0].to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_loopback_server_gets_a_door() {
        let address = |text: &str| Some(text.parse::<std::net::SocketAddr>().unwrap());
        assert_eq!(loopback_address("http://127.0.0.1:3000"), address("127.0.0.1:3000"));
        assert_eq!(loopback_address("http://[::1]:8080/"), address("[::1]:8080"));
        assert_eq!(loopback_address("http://localhost"), address("127.0.0.1:80"));
        assert_eq!(loopback_address("https://gantry.example.com"), None);
        assert_eq!(loopback_address("http://192.0.2.7:3000"), None);
        assert_eq!(loopback_address("not a url"), None);
    }
}
