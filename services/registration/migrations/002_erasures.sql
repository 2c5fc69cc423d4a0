-- The erasure feed (ListErasures) reads erased registrations in the order they were erased.
CREATE INDEX registrations_erased ON registrations (update_time, id) WHERE erased;
