//! `gantry-job-door ADDRESS`: [`gantry_runner::open_door`] as a program of its own, for the
//! runner's tests (the `gantry` binary does the same as `gantry job-network-door`).

fn main() {
    let address = std::env::args().nth(1).and_then(|address| address.parse().ok());
    let Some(address) = address else {
        eprintln!("usage: gantry-job-door ADDRESS (such as 127.0.0.1:3000)");
        std::process::exit(2);
    };
    if let Err(error) = gantry_runner::open_door(address) {
        eprintln!("cannot listen on {address}: {error}");
        std::process::exit(1);
    }
}
