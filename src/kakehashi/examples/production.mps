NAME          PRODPLAN
* production planning: integer batches of three products, continuous overtime hours
ROWS
 N  PROFIT
 L  MACHINE
 L  LABOUR
 G  DEMAND1
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    P1        PROFIT        -12.0   MACHINE         3.0
    P1        LABOUR          2.0   DEMAND1         1.0
    P2        PROFIT        -15.0   MACHINE         4.0
    P2        LABOUR          3.0
    P3        PROFIT        -22.0   MACHINE         6.0
    P3        LABOUR          4.0
    MARKER                 'MARKER'                 'INTEND'
    OT        PROFIT          4.0   LABOUR         -1.0
RHS
    RHS       MACHINE        60.0   LABOUR         40.0
    RHS       DEMAND1         3.0
BOUNDS
 UP BND       P1             10.0
 UP BND       P2             10.0
 UP BND       P3             10.0
 UP BND       OT             12.0
ENDATA
