//! The simulated cluster (see issue: `fleetctl sim serve`). Placeholder until the sim lands.
