-- The sagas still in flight, counted by phase for the operators' dashboard: a partial index
-- holds only those (the finished ones, most of the table, stay out of it).
CREATE INDEX saga_fulfilments_in_flight ON saga_fulfilments (phase)
    WHERE phase NOT IN ('CONFIRMED', 'CANCELLED');
