"""Test schemas for ``gengo init``: every feature the issue lists, in each source's own DDL."""

from __future__ import annotations

# departments.head_employee_id -> employees and employees.dept_id -> departments: a reference cycle,
# broken by the nullable (and deferrable) head; employees.manager_id: a self-reference;
# order_lines: a composite (parent, position) key; shipments: a composite foreign key;
# employee_skills: a composite key of a reference and a text column.
POSTGRES = """
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
CREATE TABLE departments (
  dept_id serial PRIMARY KEY,
  code varchar(6) NOT NULL UNIQUE,
  name varchar(40) NOT NULL,
  head_employee_id integer,
  budget numeric(12,2) CHECK (budget >= 0 AND budget <= 5000000)
);
CREATE TABLE employees (
  employee_id serial PRIMARY KEY,
  public_id uuid NOT NULL UNIQUE,
  dept_id integer NOT NULL REFERENCES departments(dept_id),
  manager_id integer REFERENCES employees(employee_id),
  first_name varchar(30) NOT NULL,
  last_name varchar(30) NOT NULL,
  email varchar(80) NOT NULL UNIQUE,
  salary numeric(9,2) NOT NULL CHECK (salary > 0),
  level smallint NOT NULL CHECK (level BETWEEN 1 AND 7),
  hired_at timestamptz NOT NULL,
  profile jsonb,
  start_time time
);
ALTER TABLE departments ADD CONSTRAINT departments_head_fk FOREIGN KEY (head_employee_id)
  REFERENCES employees(employee_id) DEFERRABLE INITIALLY DEFERRED;
CREATE TABLE customers (
  customer_id bigserial PRIMARY KEY,
  country char(2) NOT NULL,
  city varchar(12),
  phone varchar(25),
  created_at timestamp NOT NULL DEFAULT now(),
  tier text NOT NULL CHECK (tier IN ('free', 'pro', 'enterprise'))
);
CREATE TABLE orders (
  order_id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers,
  sales_rep_id integer REFERENCES employees(employee_id),
  status order_status NOT NULL,
  ordered_on date NOT NULL CHECK (ordered_on >= '2020-01-01'),
  total numeric(10,2) NOT NULL CHECK (total >= 0)
);
CREATE TABLE order_lines (
  order_id bigint NOT NULL REFERENCES orders(order_id),
  line_no smallint NOT NULL,
  product_code varchar(10) NOT NULL,
  quantity integer NOT NULL CHECK (quantity > 0 AND quantity <= 50),
  unit_price numeric(8,2) NOT NULL CHECK (unit_price >= 0.5),
  PRIMARY KEY (order_id, line_no)
);
CREATE TABLE shipments (
  shipment_id uuid PRIMARY KEY,
  order_id bigint NOT NULL,
  line_no smallint NOT NULL,
  carrier varchar(8) NOT NULL CHECK (carrier IN ('UPS', 'FEDEX', 'DHL')),
  shipped_at timestamptz,
  FOREIGN KEY (order_id, line_no) REFERENCES order_lines(order_id, line_no)
);
CREATE TABLE employee_skills (
  employee_id integer NOT NULL REFERENCES employees,
  skill varchar(20) NOT NULL,
  years smallint CHECK (years >= 0),
  PRIMARY KEY (employee_id, skill)
);
"""

# SQLite enforces no varchar length: CHECK (length(...)) does, and gengo reads it as the length.
SQLITE = """
CREATE TABLE departments (
  dept_id INTEGER PRIMARY KEY,
  code VARCHAR(6) NOT NULL UNIQUE CHECK (length(code) <= 6),
  name TEXT NOT NULL,
  head_employee_id INTEGER REFERENCES employees(employee_id) DEFERRABLE INITIALLY DEFERRED,
  budget NUMERIC(12,2) CHECK (budget >= 0 AND budget <= 5000000)
);
CREATE TABLE employees (
  employee_id INTEGER PRIMARY KEY,
  public_id UUID NOT NULL UNIQUE,
  dept_id INTEGER NOT NULL REFERENCES departments(dept_id),
  manager_id INTEGER REFERENCES employees(employee_id),
  first_name VARCHAR(30) NOT NULL,
  last_name VARCHAR(30) NOT NULL,
  email VARCHAR(80) NOT NULL UNIQUE,
  city VARCHAR(12) CHECK (length(city) <= 12),
  level SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 7),
  active BOOLEAN NOT NULL,
  hired_at DATETIME NOT NULL,
  profile JSON
);
CREATE TABLE orders (
  order_id INTEGER PRIMARY KEY,
  sales_rep_id INTEGER REFERENCES employees(employee_id),
  status TEXT NOT NULL CHECK (status IN ('new', 'paid', 'shipped')),
  total DECIMAL(10,2) NOT NULL CHECK (total >= 0)
);
CREATE TABLE order_lines (
  order_id INTEGER NOT NULL REFERENCES orders(order_id),
  line_no INTEGER NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0 AND quantity <= 50),
  PRIMARY KEY (order_id, line_no)
);
CREATE TABLE shipments (
  shipment_id TEXT PRIMARY KEY CHECK (length(shipment_id) <= 12),
  order_id INTEGER NOT NULL,
  line_no INTEGER NOT NULL,
  carrier VARCHAR(8) NOT NULL CHECK (carrier IN ('UPS', 'FEDEX', 'DHL')),
  FOREIGN KEY (order_id, line_no) REFERENCES order_lines(order_id, line_no)
);
"""

# DuckDB declares no foreign key to a table created later, so no cycle here.
DUCKDB = """
CREATE TYPE mood AS ENUM ('calm', 'busy', 'away');
CREATE TABLE departments (
  dept_id INTEGER PRIMARY KEY,
  code VARCHAR NOT NULL UNIQUE,
  budget DECIMAL(12,2) CHECK (budget >= 0)
);
CREATE TABLE employees (
  employee_id BIGINT PRIMARY KEY,
  public_id UUID NOT NULL UNIQUE,
  dept_id INTEGER NOT NULL REFERENCES departments(dept_id),
  manager_id BIGINT REFERENCES employees(employee_id),
  first_name VARCHAR NOT NULL,
  email VARCHAR UNIQUE,
  salary DECIMAL(9,2) NOT NULL CHECK (salary > 0),
  mood mood,
  hired_at TIMESTAMPTZ NOT NULL,
  profile JSON,
  start_time TIME,
  tags VARCHAR[]
);
CREATE TABLE order_lines (
  employee_id BIGINT NOT NULL REFERENCES employees(employee_id),
  line_no SMALLINT NOT NULL,
  amount DECIMAL(8,2) NOT NULL CHECK (amount BETWEEN 1 AND 500),
  PRIMARY KEY (employee_id, line_no)
);
CREATE TABLE shipments (
  shipment_id UUID PRIMARY KEY,
  employee_id BIGINT NOT NULL,
  line_no SMALLINT NOT NULL,
  FOREIGN KEY (employee_id, line_no) REFERENCES order_lines(employee_id, line_no)
);
"""
