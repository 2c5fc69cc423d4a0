-- One country's seats set by an administrator (SetCountrySeats), instead of the event's
-- participants_per_country; NULL follows the event.
ALTER TABLE quotas ADD COLUMN seat_override integer CHECK (seat_override BETWEEN 1 AND 1000);
