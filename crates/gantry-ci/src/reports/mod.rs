//! Reports a job leaves as artifacts (`artifacts:reports:…`) read into data the server stores:
//! JUnit test results and dotenv variables. Pure: bytes come in, nothing here reads a file.

pub mod dotenv;
pub mod junit;
