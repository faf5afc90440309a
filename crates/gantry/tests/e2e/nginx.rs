//! nginx from Debian's packages (scripts/test installs `nginx-light`; `GANTRY_TEST_NGINX` names
//! another binary), run in the foreground on a configuration of the test's own in a temporary
//! directory, and stopped when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Nginx {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// nginx with `http` inside its `http { }` block (temporary paths and logs are set here),
    /// once it answers on 127.0.0.1:`port`.
    pub fn start(http: &str, port: u16) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let temp = dir.path().join("temp");
        std::fs::create_dir(&temp).unwrap();
        let config = format!(
            "daemon off;\nworker_processes 1;\npid {pid};\nevents {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n  \
             fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n\
             {http}\n}}\n",
            pid = dir.path().join("nginx.pid").display(),
            temp = temp.display(),
        );
        let config_file = dir.path().join("nginx.conf");
        std::fs::write(&config_file, config).unwrap();
        let nginx = std::env::var("GANTRY_TEST_NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".to_owned());
        let child = Command::new(&nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&config_file)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {nginx} ({e}): install Debian's nginx-light (scripts/test does)"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
            assert!(Instant::now() < deadline, "nginx did not start: {log}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { child, _dir: dir }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT: nginx's graceful stop of the master and its worker.
        let _ = Command::new("kill").args(["-QUIT", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}
