/** The sample database's nine departments (datacharmer/test_db's load_departments.dump). */
export const DEPARTMENTS: readonly { dept_no: string; dept_name: string }[] = [
  { dept_no: 'd001', dept_name: 'Marketing' },
  { dept_no: 'd002', dept_name: 'Finance' },
  { dept_no: 'd003', dept_name: 'Human Resources' },
  { dept_no: 'd004', dept_name: 'Production' },
  { dept_no: 'd005', dept_name: 'Development' },
  { dept_no: 'd006', dept_name: 'Quality Management' },
  { dept_no: 'd007', dept_name: 'Sales' },
  { dept_no: 'd008', dept_name: 'Research' },
  { dept_no: 'd009', dept_name: 'Customer Service' },
];
