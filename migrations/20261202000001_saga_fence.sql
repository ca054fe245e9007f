-- Fencing for runners that must act alone (the fulfilment saga): each runner that takes
-- the advisory lock raises its name's epoch, and every state write it makes first checks,
-- under a share lock on this row, that the epoch is still its own. A runner whose lock was
-- lost (its connection died) can therefore change nothing once the next one has started.
CREATE TABLE runner_fences (
    name text PRIMARY KEY,
    epoch bigint NOT NULL
);

GRANT SELECT, INSERT, UPDATE ON runner_fences TO domainflow_app;
