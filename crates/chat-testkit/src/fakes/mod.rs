//! In-memory fakes of the domain's ports.
