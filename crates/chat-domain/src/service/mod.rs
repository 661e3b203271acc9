//! Use-case services: gather facts through ports, apply the rules, persist and publish.
