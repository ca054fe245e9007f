//! Projection workers that turn the event log into read models, and the replay machinery
//! that rebuilds them without downtime.
